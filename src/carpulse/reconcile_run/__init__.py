"""The reconciler's rounds as recorded: when each ran, on which process, what every sweep found."""
