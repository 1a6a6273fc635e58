"""The local Relais stack, shared by `relais up | down | status | seed` and the tests' fixtures: the checkout's
deploy/ scripts (Kafka, PostgreSQL, the SFTP inbox), the services as background processes with pid files and logs,
and the local key pairs. Nothing here starts at import; every function says what it starts."""

from relais_stack.infra import (
    INFRA,
    InfraError,
    SftpServer,
    kafka_bootstrap,
    postgres_url,
    require_infra,
    run_infra,
    sftp_inbox,
    start_local_sftp,
)
from relais_stack.root import CheckoutNotFound, deploy_dir, migrations_dir, project_root, var_dir
from relais_stack.services import (
    SERVICES,
    alive,
    kill_service,
    log_path,
    read_log,
    service_executable,
    service_pid,
    start_service,
    stop_service,
    wait_for_port,
)

__all__ = [
    "INFRA",
    "SERVICES",
    "CheckoutNotFound",
    "InfraError",
    "SftpServer",
    "alive",
    "deploy_dir",
    "kafka_bootstrap",
    "kill_service",
    "log_path",
    "migrations_dir",
    "postgres_url",
    "project_root",
    "read_log",
    "require_infra",
    "run_infra",
    "service_executable",
    "service_pid",
    "sftp_inbox",
    "start_local_sftp",
    "start_service",
    "stop_service",
    "var_dir",
    "wait_for_port",
]
