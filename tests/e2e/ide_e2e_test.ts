/**
 * End to end: what the IDEs' remote set-ups do, with real OpenSSH, in every
 * container mode, against a Debian image with bash, python3 and git.
 *
 * - VS Code Remote-SSH: `ssh -T -D PORT host bash` with a script on stdin that
 *   starts a server on the container's loopback and says where it listens;
 *   the editor then speaks HTTP to it through the SOCKS proxy.
 * - JetBrains Gateway: one connection (here an OpenSSH ControlMaster) uploads
 *   the backend over SFTP, starts it with `ssh host ...`, and reaches it
 *   through a `-L` forward.
 */
import assert from "node:assert/strict";
import { demoPasswordHash, startDemoCapsule } from "../helpers/demo_capsule.ts";
import { assertNoContainersLeft, requireEngine, requireImage } from "../helpers/docker.ts";
import { describe, run, sftpBatch } from "../helpers/file_clients.ts";
import { Background, freePort } from "../helpers/background.ts";
import { pollUntil } from "../helpers/poll.ts";
import { type Login, sshCommand } from "../helpers/ssh_client.ts";

const IMAGE = "capsule-test-debian:latest";

/** Where the Gateway case uploads; in `session` mode a bind mount, so it outlives the SFTP session. */
const PROJECT = "/srv/project";

/** The backend the Gateway case uploads and starts: serves its directory on the container's loopback. */
const BACKEND_PY = `import functools, http.server, os, sys
port = int(sys.argv[1])
handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=os.getcwd())
server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
print("backend listening on", port, flush=True)
server.serve_forever()
`;

/**
 * VS Code Remote-SSH's way: `ssh -T -D PORT host bash`, a script on stdin that
 * starts its server on the container's loopback and prints the port, then HTTP
 * through the SOCKS proxy; closing stdin (the editor leaving) ends the session.
 */
async function vscodeRemoteSsh(login: Login, port: number): Promise<void> {
  const socks = freePort();
  const page = `served-to-vscode-${crypto.randomUUID()}`;
  const script = [
    "set -e",
    'dir=$(mktemp -d) && cd "$dir"',
    `echo ${page} > index.html`,
    `python3 -m http.server --bind 127.0.0.1 ${port} </dev/null >/dev/null 2>&1 &`,
    `until python3 -c 'import socket; socket.create_connection(("127.0.0.1", ${port}))' 2>/dev/null`,
    "do sleep 0.1; done",
    `echo "listeningOn==${port}=="`,
    "",
  ].join("\n");
  const client = new Background(
    sshCommand(login, "bash", ["-T", "-D", String(socks), "-o", "ExitOnForwardFailure=yes"]),
    { stdin: script },
  );
  try {
    await client.waitFor(new RegExp(`listeningOn==${port}==`));
    const fetched = await run([
      "curl",
      "-sS",
      "-m",
      "20",
      "--socks5-hostname",
      `127.0.0.1:${socks}`,
      `http://127.0.0.1:${port}/index.html`,
    ]);
    assert.equal(fetched.stdout, `${page}\n`, describe(fetched));
    assert.equal(await client.finish(), 0, `the session did not end cleanly: ${client.stderr}`);
  } finally {
    await client.stop();
  }
}

/**
 * JetBrains Gateway's way, on one connection: upload the backend and a page
 * over SFTP, start the backend with `ssh host ...`, forward a local port to
 * it (`-O forward -L` on the ControlMaster), fetch the page.
 */
async function jetbrainsGateway(login: Login, port: number): Promise<void> {
  const work = await Deno.makeTempDir({ prefix: "capsule-ide-" });
  const mux = ["-F", "/dev/null", "-o", `ControlPath=${work}/master.sock`];
  const page = `served-to-gateway-${crypto.randomUUID()}`;
  await Deno.writeTextFile(`${work}/index.html`, `${page}\n`);
  await Deno.writeTextFile(`${work}/backend.py`, BACKEND_PY);
  // In the foreground, as a child: a master forked by `-f` under sshpass dies with it.
  const master = new Background(
    sshCommand(login, undefined, [...mux.slice(2), "-o", "ControlMaster=yes", "-N"]),
  );
  const viaMaster = [...mux.slice(2), "-o", "ControlMaster=no"];
  try {
    await pollUntil(
      async () => (await run(["ssh", ...mux, "-O", "check", "x"])).code,
      (code) => code === 0,
      20_000,
    );
    const upload = await sftpBatch(login, [
      `-mkdir ${PROJECT}`,
      `put ${work}/backend.py ${PROJECT}/backend.py`,
      `put ${work}/index.html ${PROJECT}/index.html`,
    ], { dir: work, sshOptions: viaMaster });
    assert.equal(upload.code, 0, describe(upload));

    const backend = new Background(
      sshCommand(login, `cd ${PROJECT} && exec python3 backend.py ${port}`, viaMaster),
    );
    try {
      await backend.waitFor(/backend listening/);
      const local = freePort();
      const forward = await run([
        "ssh",
        ...mux,
        "-O",
        "forward",
        "-L",
        `${local}:127.0.0.1:${port}`,
        "x",
      ]);
      assert.equal(forward.code, 0, describe(forward));
      const fetched = await run([
        "curl",
        "-sS",
        "-m",
        "20",
        `http://127.0.0.1:${local}/index.html`,
      ]);
      assert.equal(fetched.stdout, `${page}\n`, describe(fetched));
    } finally {
      await backend.stop();
    }
  } finally {
    await run(["ssh", ...mux, "-O", "exit", "x"]);
    await master.stop();
    await Deno.remove(work, { recursive: true });
  }
}

Deno.test("end to end: the IDE workflows (VS Code Remote-SSH, JetBrains Gateway)", async (t) => {
  await requireEngine();
  await requireImage(IMAGE);
  const passwordHash = await demoPasswordHash();
  const project = await Deno.makeTempDir({ prefix: "capsule-ide-project-" });
  const ide = (mode: string, extra: Record<string, unknown> = {}) => ({
    passwordHash,
    container: { image: IMAGE, mode, forwarding: { local: true }, ...extra },
  });
  const { capsule, login: demo } = await startDemoCapsule({
    config: {
      server: { maxStartupsPerSource: 30 },
      users: {
        "ide-session": ide("session", { mounts: [{ source: project, target: PROJECT }] }),
        "ide-connection": ide("connection"),
        "ide-persistent": ide("persistent", { gracePeriod: 1 }),
      },
    },
  });
  try {
    let port = 8100;
    for (const mode of ["session", "connection", "persistent"]) {
      const login = { ...demo, user: `ide-${mode}` };
      await t.step(`${mode}: VS Code Remote-SSH (ssh -T -D, bash on stdin)`, async () => {
        await vscodeRemoteSsh(login, ++port);
        await assertNoContainersLeft(20_000, capsule.instance);
      });
      await t.step(`${mode}: JetBrains Gateway (SFTP upload, ssh, -L)`, async () => {
        await jetbrainsGateway(login, ++port);
        await assertNoContainersLeft(20_000, capsule.instance);
      });
    }
  } finally {
    assert.equal(await capsule.stop(), 0);
    await Deno.remove(project, { recursive: true });
  }
  await assertNoContainersLeft(20_000, capsule.instance);
});
