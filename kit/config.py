"""Configuration from the environment (prefix ``GONGKAO_``), with defaults for the local run."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

SERVICES = ("identity", "application", "review", "payment", "documents")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GONGKAO_", extra="ignore")

    data_dir: Path = Path("var")
    # Unset: the embedded run (one process, in-memory broker). Set: RabbitMQ.
    amqp_uri: str | None = None
    identity_db_url: str | None = None
    application_db_url: str | None = None
    review_db_url: str | None = None
    payment_db_url: str | None = None
    documents_db_url: str | None = None

    host: str = "127.0.0.1"
    port: int = 8000
    # the distributed run (deploy.run): processes per service, "2" or "identity=2,review=3"
    service_instances: str = "1"
    gateway_workers: int = 2
    stop_grace_seconds: float = 20.0     # SIGTERM → SIGKILL for what still runs
    # SIGTERM to the gateway: /readyz says 503 "draining" this long before it stops accepting
    gateway_drain_seconds: float = 5.0
    admin_password: str | None = None
    rpc_timeout: float = 10.0
    rpc_pool_size: int = 8
    cookie_secure: bool = False
    center_phone: str = "0371-69690000"  # 工考中心电话 shown in every page header

    sms_gateway: str = "outbox"  # the pluggable SMS gateway; "outbox" writes JSON lines
    sms_outbox: Path | None = None
    sms_code_ttl_seconds: int = 300
    sms_resend_seconds: int = 60
    sms_max_attempts: int = 5
    sms_daily_limit: int = 20
    # notices to applicants (issue 14): how often unsent ones go out, and how often the
    # windows that open by the clock alone (paying 24 h / 48 h after 终审通过, the results
    # window) are looked at; a calendar or fee change looks at once
    notice_send_seconds: float = Field(default=2.0, gt=0)
    notice_sweep_seconds: float = Field(default=60.0, gt=0)

    login_max_failures: int = 5
    login_lock_minutes: int = 30
    session_idle_minutes: int = 30
    # how long a gateway process keeps a session's principal (0: ask identity every time);
    # identity's principal_changed events end it at once
    session_cache_seconds: int = Field(default=60, ge=0, le=240)
    # how long a gateway process keeps an applicant's views (their steps, form, check, 审核结果;
    # 0: ask every time); the services' viewers_changed events end them at once
    view_cache_seconds: int = Field(default=60, ge=0, le=600)
    # how long a gateway process keeps reference data (units, trades, 咨询电话, the current
    # year); the services' announcements end it at once (0: ask every time)
    reference_cache_seconds: int = Field(default=300, ge=0, le=3600)
    # R-I7: per source address, per ten minutes (a unit's office shares one address)
    source_login_per_10min: int = 60
    source_sms_per_10min: int = 30
    # proxies whose X-Forwarded-For the gateway believes (comma-separated addresses or CIDRs)
    trusted_proxies: str = ""
    # storage quotas (issue 8): per applicant account and year, per source address and hour
    account_files_max: int = 100
    account_bytes_max: int = 100 * 1024 * 1024
    source_files_per_hour: int = 60
    # the public certificate check (R-D5), per source address and ten minutes
    source_verify_per_10min: int = 30
    # concurrent image decodes per service process, off the eventlet hub
    image_workers: int = 2

    upload_max_bytes: int = 5 * 1024 * 1024
    # false: events stay in the outbox until a process with the relay on publishes them
    # (maintenance; the tests use it to stop a service between commit and publish)
    outbox_relay: bool = True
    nontax_secret: str = Field(default="dev-nontax-secret-change-me")
    # the non-tax payment platform (R-F4): its adapter, where the system reaches it, and the
    # development stand-in's port (R-F5)
    nontax_platform: str = "hmac-sha256"
    nontax_url: str = "http://127.0.0.1:8001"
    nontax_port: int = 8001
    # where the platform calls back and where it sends the payer afterwards (the gateway's
    # public address)
    public_url: str = "http://127.0.0.1:8000"
    nontax_callback_url: str | None = None
    order_ttl_seconds: int = 1800
    reconcile_after_seconds: int = 600
    reconcile_every_seconds: int = 300
    # tests only: the stand-in's retry schedule multiplied (1: the real platform's)
    nontax_retry_scale: float = 1.0
    # bulk documents (R-D6): tickets per chunk of a job (any documents instance takes a
    # chunk), and how long a claimed chunk may run before another instance takes it again
    document_chunk_size: int = Field(default=50, ge=1, le=1000)
    document_stale_seconds: int = Field(default=180, ge=10)
    document_job_concurrency: int = Field(default=3, ge=1, le=16)    # PDFs of a chunk made at once
    # Signs principals and file tickets between the gateway and the services; set the same
    # value everywhere in a deployment (a secret, from the environment only).
    internal_secret: str = Field(default="dev-internal-secret-change-me")
    # The services' own small HTTP endpoint for file streams (kit.files): where it listens
    # (port 0: any free port) and the host name the gateway reaches it at.
    files_listen: str = "127.0.0.1:0"
    files_host: str = "127.0.0.1"

    # Operations (issue 13): who may read the gateway's GET /metrics besides loopback
    # (comma-separated addresses or CIDRs; the real peer address, never X-Forwarded-For)
    metrics_allow: str = ""
    # each service process serves its metrics at http://<host>:<port>/metrics (port 0: a free
    # port chosen at start, printed in the service's log)
    metrics_host: str = "127.0.0.1"
    metrics_port: int = Field(default=0, ge=0, le=65535)
    # log lines: one JSON object each (json) or the plain text line (text)
    log_format: Literal["json", "text"] = "json"

    # Tests only: a file holding an ISO time (frozen clock) or "+<seconds>" (offset).
    test_clock_file: Path | None = None

    def db_url(self, service: str) -> str:
        url = getattr(self, f"{service}_db_url")
        if url:
            return url
        return f"sqlite:///{(self.data_dir / f'{service}.db').resolve()}"

    @property
    def callback_url(self) -> str:
        return self.nontax_callback_url or f"{self.public_url.rstrip('/')}/api/v1/callbacks/nontax"

    @property
    def sms_outbox_path(self) -> Path:
        return self.sms_outbox or (self.data_dir / "sms-outbox.jsonl")


@lru_cache(maxsize=1)
def settings() -> Settings:
    return Settings()
