"""Email: what our emails say (messages), how we send them (smtp), and the
emails that carry password links or notices."""
