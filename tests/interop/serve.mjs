// A static file server on 127.0.0.1 for interop tests: serves files under `dir`, 404 for
// anything else (including any path that would leave `dir`). Records request paths.
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';

export function serveDir(dir) {
  const root = path.resolve(dir);
  const requests = [];
  const server = http.createServer((req, res) => {
    let rel;
    try {
      rel = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    } catch {
      res.writeHead(400).end();
      return;
    }
    requests.push(rel);
    const file = path.resolve(root, '.' + rel);
    if (!file.startsWith(root + path.sep) || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
      res.writeHead(404).end();
      return;
    }
    const body = fs.readFileSync(file);
    res.writeHead(200, { 'Content-Length': body.length }).end(body);
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const url = `http://127.0.0.1:${server.address().port}`;
      resolve({ url, requests, close: () => new Promise((r) => server.close(r)) });
    });
  });
}
