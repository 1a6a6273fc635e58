pytest_plugins = ["relais_testing.fixtures"]
