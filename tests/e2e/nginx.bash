# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# nginx for the HTTP tests and benchmarks: one worker on a loopback port,
# everything it writes under one directory.

# nginx_conf DIR PORT DIRECTIVES: writes DIR/nginx.conf for a server on
# 127.0.0.1:PORT with root DIR/html and DIRECTIVES (locations...) inside.
# Workers run as root: test and benchmark directories may be private.
nginx_conf() {
	mkdir -p "$1/html" "$1/tmp"
	cat >"$1/nginx.conf" <<CONF
daemon off;
user root;
worker_processes 1;
pid $1/nginx.pid;
error_log $1/error.log;
events { worker_connections 1024; }
http {
	access_log off;
	client_body_temp_path $1/tmp;
	proxy_temp_path $1/tmp;
	fastcgi_temp_path $1/tmp;
	uwsgi_temp_path $1/tmp;
	scgi_temp_path $1/tmp;
	client_max_body_size 256m;
	client_body_buffer_size 1m;
	sendfile on;
	server {
		listen 127.0.0.1:$2;
		root $1/html;
		$3
	}
}
CONF
}

# nginx_start DIR: runs it in the background; NGINX_MASTER is its pid.
nginx_start() {
	nginx -e "$1/error.log" -p "$1" -c "$1/nginx.conf" &
	NGINX_MASTER=$!
}
