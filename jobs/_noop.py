"""Does nothing: spark-submit runs it after resolving --packages (see jobs.delta_jars)."""
