"""The console's shell: the dashboard home page and what every page shares."""
