"""The web layer: the guard, headers, error pages and the blueprints. Only this
package (and the CLI) touches Flask's request context."""
