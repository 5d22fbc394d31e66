"""The warehouse on S3-compatible object storage: configured once, for both engines.

The user writes ``warehouse: s3://bucket/prefix`` (``s3a://`` is accepted too) and describes the
store once, in ``storage.storage_options``, with delta-rs's own keys (``AWS_ENDPOINT_URL``,
``AWS_REGION``, ``AWS_ALLOW_HTTP``, ...); credentials come from the environment
(``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``, ``AWS_SESSION_TOKEN``) or, failing that, from the
same options. From that one description:

* Spark gets ``s3a://`` paths and Hadoop S3A settings (endpoint, path-style access, TLS off for an
  ``http://`` endpoint, region, bounded retries and timeouts): the non-secret ones as
  ``spark.hadoop.fs.s3a.*`` at session start; the credentials only in the running session's Hadoop
  configuration (:func:`apply`), so they are in no Spark conf listing;
* delta-rs gets the user's options plus bounded retries and, unless the user names a locking
  provider, a conditional put or ``AWS_S3_ALLOW_UNSAFE_RENAME`` themselves,
  ``AWS_CONDITIONAL_PUT=etag``: commit files are written put-if-absent, so two writers (two
  hosts, or another tool) committing at once cannot overwrite each other's table version;
* :func:`probe` lists the warehouse prefix before Spark starts, with short timeouts and one
  attempt, so an endpoint that does not answer or refused credentials is one line naming the
  store (never a credential), exit 2, in seconds rather than after minutes of retries.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlparse

from jobs.errors import ConfigError

SCHEMES = ("s3", "s3a")
#: Option keys whose values are secrets: never logged, never in a repr or an error.
SECRET_KEYS = frozenset({"AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_ACCESS_KEY_ID"})
_ALIASES = {
    "AWS_ENDPOINT": "AWS_ENDPOINT_URL",
    "ENDPOINT": "AWS_ENDPOINT_URL",
    "ENDPOINT_URL": "AWS_ENDPOINT_URL",
    "AWS_DEFAULT_REGION": "AWS_REGION",
    "REGION": "AWS_REGION",
    "ACCESS_KEY_ID": "AWS_ACCESS_KEY_ID",
    "CONDITIONAL_PUT": "AWS_CONDITIONAL_PUT",
    "SECRET_ACCESS_KEY": "AWS_SECRET_ACCESS_KEY",
    "SESSION_TOKEN": "AWS_SESSION_TOKEN",
    "TOKEN": "AWS_SESSION_TOKEN",
    "ALLOW_HTTP": "AWS_ALLOW_HTTP",
}
_ENV_KEYS = ("AWS_ENDPOINT_URL", "AWS_REGION", "AWS_DEFAULT_REGION")
_CRED_KEYS = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")
#: Bounds so that a store that does not answer fails in seconds (user settings win).
SPARK_BOUNDS = {
    "fs.s3a.connection.establish.timeout": "5s",
    "fs.s3a.connection.timeout": "60s",
    "fs.s3a.attempts.maximum": "3",
    "fs.s3a.retry.limit": "3",
    "fs.s3a.retry.throttle.limit": "5",
}
DELTA_RS_BOUNDS = {
    "connect_timeout": "5s",
    "timeout": "120s",
    "max_retries": "3",
    "retry_timeout": "30s",
}


def is_object_store(uri: str) -> bool:
    """Whether ``uri`` is on an S3-compatible store (``s3://`` or ``s3a://``)."""
    return urlparse(uri).scheme.lower() in SCHEMES


def spark_uri(uri: str) -> str:
    """``s3://bucket/p`` -> ``s3a://bucket/p`` (Hadoop's S3A scheme); other URIs unchanged."""
    if urlparse(uri).scheme.lower() == "s3":
        return "s3a" + uri[uri.index(":") :]
    return uri


def _canonical(options: Mapping[str, str]) -> dict[str, str]:
    out = {}
    for k, v in options.items():
        key = k.upper()
        out[_ALIASES.get(key, key)] = str(v)
    return out


def _true(value: str | None) -> bool:
    return str(value).strip().lower() in ("1", "true", "yes", "on")


@dataclass(frozen=True, repr=False)
class S3Store:
    """One S3-compatible store as both engines reach it. Its repr names no credential."""

    endpoint: str | None
    region: str | None
    access_key: str | None
    secret_key: str | None
    session_token: str | None
    credentials_from: str
    """``environment``, ``storage.storage_options`` or ``none`` (the SDKs' default chain)."""
    options: dict[str, str]
    """The user's ``storage_options`` (canonical keys), secrets included: never print."""

    def __repr__(self) -> str:
        return (
            f"S3Store(endpoint={self.endpoint!r}, region={self.region!r}, "
            f"credentials_from={self.credentials_from!r})"
        )

    @property
    def secrets(self) -> list[str]:
        """The secret values in use (for redaction checks)."""
        return [s for s in (self.secret_key, self.session_token) if s]

    def spark_conf(self) -> dict[str, str]:
        """Non-secret Hadoop S3A settings, as ``spark.hadoop.*`` Spark settings."""
        return {f"spark.hadoop.{k}": v for k, v in self.hadoop_settings(secrets=False).items()}

    def hadoop_settings(self, *, secrets: bool) -> dict[str, str]:
        """The S3A settings of this store (``fs.s3a.*``); credentials only with ``secrets``."""
        out = {"fs.s3.impl": "org.apache.hadoop.fs.s3a.S3AFileSystem", **SPARK_BOUNDS}
        if self.endpoint:
            out["fs.s3a.endpoint"] = self.endpoint
            out["fs.s3a.connection.ssl.enabled"] = str(
                not self.endpoint.lower().startswith("http://")
            ).lower()
            hosted = _true(self.options.get("AWS_VIRTUAL_HOSTED_STYLE_REQUEST"))
            out["fs.s3a.path.style.access"] = str(not hosted).lower()
        if self.region:
            out["fs.s3a.endpoint.region"] = self.region
        if secrets and self.access_key and self.secret_key:
            out["fs.s3a.access.key"] = self.access_key
            out["fs.s3a.secret.key"] = self.secret_key
            provider = "org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider"
            if self.session_token:
                out["fs.s3a.session.token"] = self.session_token
                provider = "org.apache.hadoop.fs.s3a.TemporaryAWSCredentialsProvider"
            out["fs.s3a.aws.credentials.provider"] = provider
        return out

    def delta_rs_options(self) -> dict[str, str]:
        """``storage_options`` for delta-rs: the user's, the resolved store, bounded retries."""
        out = dict(DELTA_RS_BOUNDS)
        out.update(self.options)
        if self.endpoint:
            out["AWS_ENDPOINT_URL"] = self.endpoint
            if self.endpoint.lower().startswith("http://"):
                out.setdefault("AWS_ALLOW_HTTP", "true")
        if self.region:
            out["AWS_REGION"] = self.region
        if self.access_key and self.secret_key:
            out["AWS_ACCESS_KEY_ID"] = self.access_key
            out["AWS_SECRET_ACCESS_KEY"] = self.secret_key
            if self.session_token:
                out["AWS_SESSION_TOKEN"] = self.session_token
        if not {
            "AWS_S3_LOCKING_PROVIDER",
            "AWS_CONDITIONAL_PUT",
            "AWS_S3_ALLOW_UNSAFE_RENAME",
        } & set(out):
            # each commit file is written with If-None-Match (put-if-absent), which AWS S3,
            # MinIO, R2 and moto honour: two writers can never both take one table version
            out["AWS_CONDITIONAL_PUT"] = "etag"
        return out


def resolve(options: Mapping[str, str], env: Mapping[str, str] | None = None) -> S3Store:
    """The store described by ``storage.storage_options`` and the environment.

    Credentials: the environment's pair when both are set, else the options' pair. Endpoint and
    region: the options', else the environment's.

    Raises:
        ConfigError: only half a key pair is given, or the endpoint is not an http(s) URL.
    """
    env = os.environ if env is None else env
    opts = _canonical(options)
    env_opts = {k: env[k] for k in (*_ENV_KEYS, *_CRED_KEYS) if env.get(k)}
    endpoint = opts.get("AWS_ENDPOINT_URL") or env_opts.get("AWS_ENDPOINT_URL")
    region = (
        opts.get("AWS_REGION") or env_opts.get("AWS_REGION") or env_opts.get("AWS_DEFAULT_REGION")
    )
    if endpoint and not re.match(r"^https?://[^/\s]+", endpoint):
        raise ConfigError(
            f"storage.storage_options AWS_ENDPOINT_URL is {endpoint!r}, expected http(s)://HOST[:PORT]"
        )
    source = "none"
    ak = sk = token = None
    for given, where in ((env_opts, "environment"), (opts, "storage.storage_options")):
        key_id, secret = given.get("AWS_ACCESS_KEY_ID"), given.get("AWS_SECRET_ACCESS_KEY")
        if bool(key_id) != bool(secret):
            missing = "AWS_SECRET_ACCESS_KEY" if key_id else "AWS_ACCESS_KEY_ID"
            raise ConfigError(f"object store credentials in the {where} lack {missing}")
        if key_id and secret:
            ak, sk, token, source = key_id, secret, given.get("AWS_SESSION_TOKEN"), where
            break
    return S3Store(endpoint, region, ak, sk, token, source, opts)


_CODE = re.compile(r"AWS Error ([A-Z_]+)")
_AUTH = {
    "ACCESS_DENIED",
    "INVALID_ACCESS_KEY_ID",
    "SIGNATURE_DOES_NOT_MATCH",
    "INVALID_CLIENT_TOKEN_ID",
    "UNRECOGNIZED_CLIENT",
    "EXPIRED_TOKEN",
    "MISSING_AUTHENTICATION_TOKEN",
}


def probe(key: str, uri: str, store: S3Store, *, timeout: float = 5) -> None:
    """List the top of ``uri`` once, with short timeouts: the store answers and takes the keys.

    Args:
        key: the configuration key the URI came from (``warehouse``), named in the error.

    Raises:
        ConfigError: one line naming the key, the store and the problem (no credential in it).
    """
    import pyarrow.fs as pafs

    u = urlparse(uri)
    bucket, prefix = u.netloc, u.path.strip("/")
    kwargs: dict[str, object] = {
        "connect_timeout": timeout,
        "request_timeout": timeout * 2,
        "retry_strategy": pafs.AwsStandardS3RetryStrategy(max_attempts=1),
    }
    if store.endpoint:
        kwargs["endpoint_override"] = store.endpoint
        kwargs["scheme"] = "http" if store.endpoint.lower().startswith("http://") else "https"
    if store.region:
        kwargs["region"] = store.region
    if store.access_key and store.secret_key:
        kwargs.update(access_key=store.access_key, secret_key=store.secret_key)
        if store.session_token:
            kwargs["session_token"] = store.session_token
    where = f"{key} {uri} (endpoint {store.endpoint or 'AWS default'})"
    try:
        fs = pafs.S3FileSystem(**kwargs)  # type: ignore[arg-type]
        fs.get_file_info(pafs.FileSelector(f"{bucket}/{prefix}".rstrip("/"), allow_not_found=True))
    except OSError as exc:
        text = str(exc)
        m = _CODE.search(text)
        code = m.group(1) if m else ""
        if code in ("NETWORK_CONNECTION", "") and re.search(
            r"curlCode|connect|timed out|resolve", text, re.I
        ):
            raise ConfigError(
                f"{where}: the object store does not answer; check storage.storage_options "
                "AWS_ENDPOINT_URL and that the store is running"
            ) from None
        if code in _AUTH:
            raise ConfigError(
                f"{where}: the object store refused the credentials from the "
                f"{store.credentials_from} ({code}); check AWS_ACCESS_KEY_ID and "
                "AWS_SECRET_ACCESS_KEY"
            ) from None
        if code == "NO_SUCH_BUCKET":
            raise ConfigError(
                f"{where}: bucket {bucket!r} does not exist; create it first"
            ) from None
        raise ConfigError(
            f"{where}: the object store could not be listed ({code or type(exc).__name__})"
        ) from None


def apply(spark: object, store: S3Store, user_conf: Mapping[str, str]) -> None:
    """Put the store's S3A settings, credentials included, into the running session's Hadoop
    configuration (also when the session was already running with other settings); a setting
    the user gave as ``spark.hadoop.fs.s3a.*`` in ``spark.conf`` wins."""
    conf = spark.sparkContext._jsc.hadoopConfiguration()  # type: ignore[attr-defined]
    for k, v in store.hadoop_settings(secrets=True).items():
        if f"spark.hadoop.{k}" not in user_conf:
            conf.set(k, v)


@dataclass(frozen=True, repr=False)
class Plan:
    """How a command reaches its warehouses: Spark settings, delta-rs options, table roots."""

    store: S3Store | None
    spark_conf: dict[str, str]
    storage_options: dict[str, str]
    roots: dict[str, str]
    """Configuration key -> the root the table store uses (``s3a://`` for an object store)."""

    def __repr__(self) -> str:
        return f"Plan(store={self.store!r}, roots={self.roots!r})"


def plan(
    roots: Mapping[str, str],
    storage_options: Mapping[str, str],
    spark_conf: Mapping[str, str],
    *,
    check: bool = True,
) -> Plan:
    """The settings for ``roots`` (``{"warehouse": uri, ...}``), checked before Spark starts.

    Without an object-store root everything is passed through unchanged. With one: the store
    is resolved (:func:`resolve`), probed (:func:`probe`, unless ``check`` is false), the
    hadoop-aws jars are added to ``spark.jars`` and the S3A settings under the user's own.

    Raises:
        ConfigError: a probe failed, or the hadoop-aws jars are not here.
    """
    on_s3 = {k: u for k, u in roots.items() if is_object_store(u)}
    if not on_s3:
        return Plan(None, dict(spark_conf), dict(storage_options), dict(roots))
    from jobs import s3a_jars

    store = resolve(storage_options)
    if check:
        for key, uri in on_s3.items():
            probe(key, uri, store)
    jars = s3a_jars.find_jars()
    if jars is None:
        raise ConfigError(
            f"{next(iter(on_s3))} is on {next(iter(on_s3.values()))} but the hadoop-aws "
            f"{s3a_jars.hadoop_version()} jars Spark needs for s3a:// are not here: run "
            "`python -m jobs.s3a_jars` (needs Maven Central)"
        )
    conf = {**store.spark_conf(), **spark_conf}
    existing = conf.get("spark.jars", "")
    conf["spark.jars"] = ",".join([existing] * bool(existing) + [str(j) for j in jars])
    return Plan(
        store,
        conf,
        store.delta_rs_options(),
        {k: spark_uri(u) for k, u in roots.items()},
    )
