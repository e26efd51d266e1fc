"""The product's tests run on adminapp's fixtures: the emulators, an app
made by create_app() (which finds this product through its entry point) and
clients signed in with given permissions."""

pytest_plugins = ["adminapp.testing"]
