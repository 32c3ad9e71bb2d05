#!/bin/bash
# Configure Debian's glance-api (bookworm: Glance 25, Zed) beside the
# Keystone anchor of shared/bench/anchors, which must be up (its start.sh
# mariadb memcached keystone): a file store, the anchors' MariaDB, Keystone
# auth with a "glance" user in the "service" project, glance-api on
# $GLANCE_PORT. Installs glance-api with apt when it is missing.
# Every run resets Glance's database and image directory (a benchmark
# starts empty, as kumo's does). Then: start.sh, stop.sh.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ANCHORS=${ANCHORS:-$HERE/../../../shared/bench/anchors}
ANCHORS=$(cd "$ANCHORS" && pwd)
. "$ANCHORS/config.env"
. "$HERE/config.env"
log() { echo "[glance setup] $*" >&2; }

if ! dpkg-query -W -f='${Status}' glance-api 2>/dev/null | grep -q "install ok installed"; then
	log "installing glance-api"
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends glance-api >/tmp/glance-apt.log 2>&1 ||
		{ tail -20 /tmp/glance-apt.log; exit 1; }
fi
code=$(curl -s -o /dev/null -w '%{http_code}' -m 3 "http://$BIND_IP:$KEYSTONE_PORT/v3" || true)
[ "$code" = 200 ] || { log "the Keystone anchor is not up on $BIND_IP:$KEYSTONE_PORT (HTTP '$code'): run $ANCHORS/start.sh mariadb memcached keystone"; exit 1; }
mariadb-admin --no-defaults --socket="$MARIADB_SOCKET" -u root ping >/dev/null 2>&1 ||
	{ log "the anchors' MariaDB is not up ($MARIADB_SOCKET)"; exit 1; }
if [ -s "$GLANCE_STATE_DIR/run/glance-api.pid" ] && kill -0 "$(cat "$GLANCE_STATE_DIR/run/glance-api.pid")" 2>/dev/null; then
	log "glance-api is running (pid $(cat "$GLANCE_STATE_DIR/run/glance-api.pid")): stop.sh first"
	exit 1
fi

log "database glance on the anchors' MariaDB (reset)"
mariadb --no-defaults --socket="$MARIADB_SOCKET" -u root <<SQL
DROP DATABASE IF EXISTS glance;
CREATE DATABASE glance CHARACTER SET utf8mb4;
CREATE USER IF NOT EXISTS 'glance'@'127.0.0.1' IDENTIFIED BY '$GLANCE_DB_PASSWORD';
ALTER USER 'glance'@'127.0.0.1' IDENTIFIED BY '$GLANCE_DB_PASSWORD';
GRANT ALL PRIVILEGES ON glance.* TO 'glance'@'127.0.0.1';
FLUSH PRIVILEGES;
SQL

log "state in $GLANCE_STATE_DIR, config in $GLANCE_CONF_DIR"
rm -rf "$GLANCE_STATE_DIR"
install -d -o glance -g glance "$GLANCE_STATE_DIR" "$GLANCE_STATE_DIR"/{images,staging,tasks,lock,run,cache}
install -d "$GLANCE_CONF_DIR"
cat >"$GLANCE_CONF_DIR/glance-api.conf" <<CONF
[DEFAULT]
bind_host = $GLANCE_BIND_IP
bind_port = $GLANCE_PORT
workers = $GLANCE_WORKERS
log_file = $GLANCE_STATE_DIR/run/glance-api.log
enabled_backends = fs:file
image_cache_dir = $GLANCE_STATE_DIR/cache

[glance_store]
default_backend = fs

[fs]
filesystem_store_datadir = $GLANCE_STATE_DIR/images/

[os_glance_staging_store]
filesystem_store_datadir = $GLANCE_STATE_DIR/staging/

[os_glance_tasks_store]
filesystem_store_datadir = $GLANCE_STATE_DIR/tasks/

[database]
connection = mysql+pymysql://glance:$GLANCE_DB_PASSWORD@$BIND_IP:$MARIADB_PORT/glance

[keystone_authtoken]
www_authenticate_uri = http://$BIND_IP:$KEYSTONE_PORT
auth_url = http://$BIND_IP:$KEYSTONE_PORT
memcached_servers = $BIND_IP:$MEMCACHED_PORT
auth_type = password
project_domain_name = Default
user_domain_name = Default
project_name = service
username = glance
password = $GLANCE_SERVICE_PASSWORD

[paste_deploy]
flavor = keystone
config_file = /etc/glance/glance-api-paste.ini

[oslo_concurrency]
lock_path = $GLANCE_STATE_DIR/lock
CONF
chown root:glance "$GLANCE_CONF_DIR/glance-api.conf"
chmod 640 "$GLANCE_CONF_DIR/glance-api.conf"

log "glance-manage db_sync"
setpriv --reuid glance --regid glance --init-groups \
	glance-manage --config-file "$GLANCE_CONF_DIR/glance-api.conf" db_sync >"$GLANCE_STATE_DIR/run/db_sync.log" 2>&1 ||
	{ tail -20 "$GLANCE_STATE_DIR/run/db_sync.log"; exit 1; }

log "Keystone: user glance (admin of project service)"
export OS_AUTH_URL=http://$BIND_IP:$KEYSTONE_PORT/v3 OS_USERNAME=admin OS_PASSWORD=$ADMIN_PASSWORD \
	OS_PROJECT_NAME=admin OS_USER_DOMAIN_NAME=Default OS_PROJECT_DOMAIN_NAME=Default OS_IDENTITY_API_VERSION=3
openstack project show service >/dev/null 2>&1 || openstack project create --domain Default service >/dev/null
if openstack user show --domain Default glance >/dev/null 2>&1; then
	openstack user set --password "$GLANCE_SERVICE_PASSWORD" glance
else
	openstack user create --domain Default --password "$GLANCE_SERVICE_PASSWORD" glance >/dev/null
fi
openstack role add --project service --user glance admin
if [ "$GLANCE_REGISTER_ENDPOINT" = 1 ]; then
	openstack service show image >/dev/null 2>&1 || openstack service create --name glance image >/dev/null
	for i in public internal admin; do
		openstack endpoint list --service image --interface $i -f value -c ID | grep -q . ||
			openstack endpoint create --region "$REGION" image $i "http://$GLANCE_BIND_IP:$GLANCE_PORT" >/dev/null
	done
fi
log "done; start with $HERE/start.sh"
