"""The product's log4j configuration survives a user's own JVM options (no Spark needed)."""

from jobs.store.session import keep_log_config

DRIVER = "spark.driver.extraJavaOptions"
EXECUTOR = "spark.executor.extraJavaOptions"


def test_no_user_options_keep_the_products_log_file():
    kept = keep_log_config({})
    for key in (DRIVER, EXECUTOR):
        assert kept[key].startswith("-Dlog4j2.configurationFile=file:")
        assert kept[key].endswith("jobs/log4j2.properties")


def test_user_flags_are_appended_after_the_products_log_file():
    kept = keep_log_config({DRIVER: "-XX:+UseG1GC -Xss4m"})
    flags = kept[DRIVER].split()
    assert flags[0].startswith("-Dlog4j2.configurationFile=file:")
    assert flags[1:] == ["-XX:+UseG1GC", "-Xss4m"]
    assert kept[EXECUTOR].split()[1:] == []


def test_a_users_own_log_file_is_left_alone():
    mine = "-Dlog4j2.configurationFile=file:/etc/spark/log4j2.properties -XX:+UseG1GC"
    assert keep_log_config({EXECUTOR: mine})[EXECUTOR] == mine
