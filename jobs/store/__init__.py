"""The product's warehouse: the Spark session, the table store on delta-spark or delta-rs, input
file listing and the run manifest."""
