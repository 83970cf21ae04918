// The anchor: Debian's nginx serving the same policy file with the same
// certificate, as an operator would set it up for MTA-STS (one location,
// text/plain; charset=utf-8, TLS 1.2 and 1.3, worker_processes auto).

import { type ChildProcess, spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";

export interface NginxSite {
  dir: string;
  port: number;
  /** A second port whose access log records `$ssl_session_reused`, for the resumption probe. */
  probePort: number;
  /** A third port with session resumption off (tickets and cache): every connection a full handshake. */
  fullPort: number;
  serverName: string;
  cert: string;
  key: string;
  policyFile: string;
}

export function nginxConf(s: NginxSite): string {
  // As root, nginx would hand its workers to `nobody`, who cannot read a
  // private temp dir; the brief is to run it as the current user.
  const user = process.getuid?.() === 0 ? "user root;\n" : "";
  const server = (port: number, log: string) => `
  server {
    listen 127.0.0.1:${port} ssl;
    server_name ${s.serverName};
    ssl_certificate ${s.cert};
    ssl_certificate_key ${s.key};
    ssl_protocols TLSv1.2 TLSv1.3;
    ${log}
    location = /.well-known/mta-sts.txt {
      alias ${s.policyFile};
      default_type text/plain;
      charset utf-8;
      add_header Cache-Control "max-age=60";
    }
    location / { return 404; }
  }`;
  return `${user}worker_processes auto;
daemon off;
pid ${join(s.dir, "nginx.pid")};
error_log ${join(s.dir, "nginx-error.log")} warn;
events { worker_connections 4096; }
http {
  types { }
  access_log off;
  log_format reuse "$ssl_session_reused";
  keepalive_requests 1000000;
  client_body_temp_path ${join(s.dir, "nginx-body")};
  proxy_temp_path ${join(s.dir, "nginx-proxy")};
  fastcgi_temp_path ${join(s.dir, "nginx-fastcgi")};
  uwsgi_temp_path ${join(s.dir, "nginx-uwsgi")};
  scgi_temp_path ${join(s.dir, "nginx-scgi")};
${server(s.port, "")}
${server(s.probePort, `access_log ${join(s.dir, "nginx-reuse.log")} reuse;`)}
${server(s.fullPort, "ssl_session_tickets off;\n    ssl_session_cache off;")}
}
`;
}

export function startNginx(s: NginxSite): ChildProcess {
  const conf = join(s.dir, "nginx.conf");
  writeFileSync(conf, nginxConf(s));
  return spawn("/usr/sbin/nginx", ["-c", conf, "-p", s.dir, "-e", join(s.dir, "nginx-error.log")], {
    stdio: ["ignore", "ignore", "inherit"],
  });
}
