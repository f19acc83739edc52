"""supportcli: a command-line ticket and complaint tracker that keeps service levels in working time."""

__version__ = "0.1.0"
