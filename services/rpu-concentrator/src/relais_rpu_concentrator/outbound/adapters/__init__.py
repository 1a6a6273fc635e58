"""One module per technology: SFTP push, HTTPS POST, PostgreSQL ledgers, SMTP mail, webhook."""
