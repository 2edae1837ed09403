"""Which characters a generated Aurora master password may contain.

The same password is the cluster's master password (RDS rules) and the
`password` of the credentials secret the DMS target endpoint logs in with
(DMS rules), so the generator must exclude the union of both sets.
"""

from __future__ import annotations

# botocore `rds` model, CreateDBCluster.MasterUserPassword: "any printable ASCII character except "/", """, or "@"";
# the RDS user guide ("Settings for DB instances", Master password) also excludes the space.
RDS_FORBIDDEN_PASSWORD_CHARACTERS = '/"@ '
# DMS user guide, "Creating source and target endpoints": characters not supported in endpoint passwords and
# Secrets Manager secrets, for all engines `{ }`, for PostgreSQL and Aurora PostgreSQL `; + %`. The rotation
# section of "Using secrets to access AWS Database Migration Service endpoints" also excludes `;.:+`.
DMS_FORBIDDEN_PASSWORD_CHARACTERS = "{};+%.:"
GENERATED_PASSWORD_EXCLUDED_CHARACTERS = "".join(
    sorted(set(RDS_FORBIDDEN_PASSWORD_CHARACTERS) | set(DMS_FORBIDDEN_PASSWORD_CHARACTERS))
)
# botocore `rds` model, CreateDBCluster.MasterUserPassword: "Must contain from 8 to 41 characters."
RDS_MASTER_PASSWORD_LENGTH = (8, 41)
GENERATED_PASSWORD_LENGTH = 40
