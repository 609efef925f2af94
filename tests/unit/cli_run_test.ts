import assert from "node:assert/strict";
import type { Config } from "../../src/config/mod.ts";
import { type CliDeps, type CliStdin, runCli } from "../../src/cli/mod.ts";

interface Run {
  code: number;
  stdout: string;
  stderr: string;
  served: Config[];
  keys: { type: string; bits: number | undefined }[];
  raw: boolean[];
}

interface RunOptions {
  probeDiskQuota?: CliDeps["probeDiskQuota"];
  stdin?: string;
  terminal?: boolean;
  env?: Record<string, string>;
  cwd?: string;
  serveCode?: number;
}

function stdinOf(text: string, terminal: boolean, raw: boolean[]): CliStdin {
  return {
    readable: new ReadableStream({
      start(controller) {
        if (text !== "") controller.enqueue(new TextEncoder().encode(text));
        controller.close();
      },
    }),
    isTerminal: () => terminal,
    setRaw: (mode) => void raw.push(mode),
  };
}

async function run(argv: string[], options: RunOptions = {}): Promise<Run> {
  const result: Run = { code: -1, stdout: "", stderr: "", served: [], keys: [], raw: [] };
  const deps: CliDeps = {
    serve: (config) => {
      result.served.push(config);
      return Promise.resolve(options.serveCode ?? 0);
    },
    generateHostKey: (type, bits) => {
      result.keys.push({ type, bits });
      return {
        privateKey:
          `-----BEGIN OPENSSH PRIVATE KEY-----\n${type}\n-----END OPENSSH PRIVATE KEY-----\n`,
        publicKey: `ssh-${type} AAAAfake`,
        fingerprint: "SHA256:fake",
      };
    },
    hashPassword: (password) => Promise.resolve(`$scrypt$fake$${password}`),
    version: "1.2.3",
    stdout: (text) => void (result.stdout += text),
    stderr: (text) => void (result.stderr += text),
    stdin: stdinOf(options.stdin ?? "", options.terminal ?? false, result.raw),
    env: options.env ?? { HOME: "/home/tester" },
    cwd: options.cwd ?? "/",
    ...(options.probeDiskQuota ? { probeDiskQuota: options.probeDiskQuota } : {}),
  };
  result.code = await runCli(argv, deps);
  return result;
}

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "capsule-cli-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("runCli() prints the usage for --help, -h and help, exit 0", async (t) => {
  for (const argv of [["--help"], ["-h"], ["help"]]) {
    await t.step(argv.join(" "), async () => {
      const { code, stdout, stderr } = await run(argv);
      assert.equal(code, 0);
      assert.equal(stderr, "");
      assert.match(stdout, /^capsule: an SSH server/);
      const commands = [
        "serve",
        "keygen",
        "hash-password",
        "totp-secret",
        "check-config",
        "version",
      ];
      for (const command of commands) {
        assert.match(stdout, new RegExp(`^  ${command} `, "m"));
      }
    });
  }
});

Deno.test("runCli() prints each command's help for --help and help COMMAND", async (t) => {
  const commands = ["serve", "keygen", "hash-password", "totp-secret", "check-config", "version"];
  for (const command of commands) {
    await t.step(command, async () => {
      for (const argv of [[command, "--help"], [command, "-h"], ["help", command]]) {
        const { code, stdout, stderr, served } = await run(argv);
        assert.equal(code, 0);
        assert.equal(stderr, "");
        assert.match(stdout, new RegExp(`^Usage: capsule ${command}`));
        assert.equal(served.length, 0);
      }
    });
  }
  const serve = await run(["serve", "--help"]);
  assert.match(serve.stdout, /CAPSULE_CONTAINER_MEMORY/);
});

Deno.test("runCli() refuses unknown options and commands with exit 2", async (t) => {
  const cases: [string[], string][] = [
    [["--foo"], `capsule: unknown option "--foo"\nTry "capsule --help"\n`],
    [["serve", "-x"], `capsule: unknown option "-x"\nTry "capsule serve --help"\n`],
    [["keygen", "--bogus=1"], `capsule: unknown option "--bogus"\nTry "capsule keygen --help"\n`],
    [["frobnicate"], `capsule: unknown command "frobnicate"\nTry "capsule --help"\n`],
    [["help", "frobnicate"], `capsule: unknown command "frobnicate"\nTry "capsule --help"\n`],
    [
      ["serve", "--listen"],
      `capsule: option "--listen" needs a value\nTry "capsule serve --help"\n`,
    ],
    [["version", "extra"], `capsule: unexpected argument "extra"\nTry "capsule version --help"\n`],
    [
      ["keygen", "--force=yes"],
      `capsule: option "--force" does not take a value\nTry "capsule keygen --help"\n`,
    ],
  ];
  for (const [argv, message] of cases) {
    await t.step(argv.join(" "), async () => {
      const { code, stdout, stderr, served } = await run(argv);
      assert.equal(code, 2);
      assert.equal(stdout, "");
      assert.equal(stderr, message);
      assert.equal(served.length, 0);
    });
  }
});

Deno.test("runCli() serves by default with the flags over the config", async () => {
  await withDir(async (dir) => {
    await Deno.writeTextFile(
      `${dir}/config.yaml`,
      "server:\n  listen: 127.0.0.1:1111\n  stateDir: state\n",
    );
    const { code, served, stderr } = await run(
      [
        "-c",
        "config.yaml",
        "--listen",
        "127.0.0.1:0",
        "--log-level=debug",
        "--host-key",
        "a",
        "--host-key",
        "/b",
      ],
      { cwd: dir, serveCode: 7 },
    );
    assert.equal(stderr, "");
    assert.equal(code, 7, "serve's exit code is the process's");
    assert.equal(served.length, 1);
    assert.equal(served[0]!.server.listen, "127.0.0.1:0");
    assert.equal(served[0]!.log.level, "debug");
    assert.equal(served[0]!.server.stateDir, `${dir}/state`);
    assert.deepEqual(served[0]!.server.hostKeys, [`${dir}/a`, "/b"]);
  });
  const bare = await run([]);
  assert.equal(bare.code, 0);
  assert.equal(bare.served[0]!.server.listen, "127.0.0.1:2222");
});

Deno.test("runCli() serve prints config errors and exits 1 without serving", async () => {
  await withDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/config.yaml`, "container:\n  memory: lots\n");
    const { code, served, stderr, stdout } = await run([
      "serve",
      "--config",
      `${dir}/config.yaml`,
      "--log-level",
      "loud",
    ]);
    assert.equal(code, 1);
    assert.equal(served.length, 0);
    assert.equal(stdout, "");
    assert.equal(
      stderr,
      `${dir}/config.yaml:2:11: "container.memory" must be a size like "256m": got "lots"\n` +
        `flag --log-level: "log.level" must be one of "debug", "info", "warn", "error": got "loud"\n`,
    );
  });
});

Deno.test("runCli() check-config reports a valid and an invalid file", async (t) => {
  await withDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/good.yaml`, "container:\n  image: alpine\n");
    await Deno.writeTextFile(`${dir}/bad.yaml`, "container:\n  imag: alpine\n");
    await t.step("good file", async () => {
      const { code, stdout, stderr, served } = await run([
        "check-config",
        "--config",
        `${dir}/good.yaml`,
      ]);
      assert.equal(code, 0);
      assert.equal(
        stdout,
        `config OK: ${dir}/good.yaml\n` +
          "disk limit: 1 GiB per container: the engine's storage quota where it has one, " +
          "else checked twice a second\n",
      );
      assert.equal(stderr, "");
      assert.equal(served.length, 0);
    });
    await t.step("bad file", async () => {
      const { code, stdout, stderr } = await run(["check-config", "-c", `${dir}/bad.yaml`]);
      assert.equal(code, 1);
      assert.equal(stdout, "");
      assert.equal(
        stderr,
        `${dir}/bad.yaml:2:3: unknown option "container.imag": did you mean "image"?\n`,
      );
    });
    await t.step("file from CAPSULE_CONFIG", async () => {
      const { code, stdout } = await run(["check-config"], {
        env: { HOME: "/home/tester", CAPSULE_CONFIG: `${dir}/good.yaml` },
      });
      assert.equal(code, 0);
      assert.match(stdout, new RegExp(`^config OK: ${dir}/good.yaml\n`));
    });
    await t.step("no file", async () => {
      const { code, stdout } = await run(["check-config"]);
      assert.equal(code, 0);
      assert.match(stdout, /^config OK: built-in defaults\ndisk limit: /);
    });
    await t.step("says how the disk limit is enforced, per user where it differs", async () => {
      await Deno.writeTextFile(
        `${dir}/disk.yaml`,
        "users:\n  ro:\n    container: { readOnlyRootfs: true, tmpfs: { /tmp: 64m } }\n",
      );
      for (
        const [quota, expected] of [[true, /storage quota \(exact\)/], [
          false,
          /twice a second/,
        ]] as const
      ) {
        const { code, stdout } = await run(["check-config", "-c", `${dir}/disk.yaml`], {
          probeDiskQuota: () => Promise.resolve(quota),
        });
        assert.equal(code, 0);
        assert.match(stdout, expected);
        assert.match(stdout, /disk limit of "ro": read-only root filesystem; tmpfs .*\/tmp 64 MiB/);
      }
      const { stdout } = await run(["check-config", "-c", `${dir}/disk.yaml`], {
        probeDiskQuota: () => Promise.resolve(undefined),
      });
      assert.match(stdout, /no engine answered/);
    });
    await t.step("missing file", async () => {
      const { code, stderr } = await run(["check-config", "-c", `${dir}/none.yaml`]);
      assert.equal(code, 1);
      assert.equal(stderr, `Cannot read config file "${dir}/none.yaml": No such file\n`);
    });
  });
});

Deno.test("runCli() hash-password hashes the first line of piped stdin", async () => {
  const { code, stdout, stderr, raw } = await run(["hash-password"], {
    stdin: "s3cret pass\r\nsecond line\n",
  });
  assert.equal(code, 0);
  assert.equal(stdout, "$scrypt$fake$s3cret pass\n");
  assert.equal(stderr, "");
  assert.deepEqual(raw, [], "a pipe is not put in raw mode");
});

Deno.test("runCli() hash-password refuses an empty password", async (t) => {
  for (const stdin of ["", "\n", "\nsecond\n"]) {
    await t.step(JSON.stringify(stdin), async () => {
      const { code, stdout, stderr } = await run(["hash-password"], { stdin });
      assert.equal(code, 1);
      assert.equal(stdout, "");
      assert.equal(stderr, "capsule: Cannot hash password: the password is empty\n");
    });
  }
});

Deno.test("runCli() hash-password on a terminal asks twice without echo", async (t) => {
  await t.step("matching entries", async () => {
    const { code, stdout, stderr, raw } = await run(["hash-password"], {
      terminal: true,
      stdin: "pw\x7fW1\rpW1\r",
    });
    assert.equal(code, 0);
    assert.equal(stdout, "$scrypt$fake$pW1\n");
    assert.equal(stderr, "Password: \nRepeat password: \n");
    assert.deepEqual(raw, [true, false]);
  });
  await t.step("different entries", async () => {
    const { code, stdout, stderr, raw } = await run(["hash-password"], {
      terminal: true,
      stdin: "one\rtwo\r",
    });
    assert.equal(code, 1);
    assert.equal(stdout, "");
    assert.match(stderr, /capsule: Cannot hash password: the passwords do not match\n$/);
    assert.deepEqual(raw, [true, false]);
  });
  await t.step("Ctrl-C", async () => {
    const { code, stdout, raw } = await run(["hash-password"], {
      terminal: true,
      stdin: "sec\x03",
    });
    assert.equal(code, 130);
    assert.equal(stdout, "");
    assert.deepEqual(raw, [true, false]);
  });
});

Deno.test("runCli() keygen --out writes the key with mode 0600 and refuses to overwrite", async () => {
  await withDir(async (dir) => {
    const first = await run(["keygen", "--out", "host_key"], { cwd: dir });
    assert.equal(first.code, 0);
    assert.equal(first.stdout, "ssh-ed25519 AAAAfake\nSHA256:fake\n");
    assert.deepEqual(first.keys, [{ type: "ed25519", bits: undefined }]);
    assert.match(await Deno.readTextFile(`${dir}/host_key`), /ed25519/);
    assert.equal((await Deno.stat(`${dir}/host_key`)).mode! & 0o777, 0o600);

    const again = await run(["keygen", "--type", "rsa", "--out", "host_key"], { cwd: dir });
    assert.equal(again.code, 1);
    assert.equal(again.stdout, "");
    assert.equal(
      again.stderr,
      `capsule: Cannot write host key to "host_key": file exists (use --force to replace it)\n`,
    );
    assert.match(await Deno.readTextFile(`${dir}/host_key`), /ed25519/);

    await Deno.chmod(`${dir}/host_key`, 0o644);
    const forced = await run([
      "keygen",
      "-t",
      "rsa",
      "-b",
      "3072",
      "-o",
      `${dir}/host_key`,
      "--force",
    ]);
    assert.equal(forced.code, 0);
    assert.deepEqual(forced.keys, [{ type: "rsa", bits: 3072 }]);
    assert.match(await Deno.readTextFile(`${dir}/host_key`), /rsa/);
    assert.equal((await Deno.stat(`${dir}/host_key`)).mode! & 0o777, 0o600);
  });
});

Deno.test("runCli() keygen without --out prints the private key", async () => {
  const { code, stdout, stderr } = await run(["keygen"]);
  assert.equal(code, 0);
  assert.match(stdout, /^-----BEGIN OPENSSH PRIVATE KEY-----\n/);
  assert.equal(stderr, "ssh-ed25519 AAAAfake\nSHA256:fake\n");
});

Deno.test("runCli() keygen refuses ECDSA and bad sizes with exit 2", async (t) => {
  const cases: [string[], string][] = [
    [["--type", "ecdsa"], `ECDSA host keys are not supported under Deno: use "ed25519"`],
    [["--type", "dsa"], `invalid key type "dsa": expected "ed25519" or "rsa"`],
    [
      ["--type", "rsa", "--bits", "1024"],
      `invalid RSA key size "1024": expected 2048 to 16384 bits`,
    ],
    [["--bits", "4096"], `option "--bits" applies only to "--type rsa"`],
    [["--force"], `option "--force" needs "--out"`],
  ];
  for (const [args, message] of cases) {
    await t.step(args.join(" "), async () => {
      const { code, stderr, keys } = await run(["keygen", ...args]);
      assert.equal(code, 2);
      assert.equal(stderr, `capsule: ${message}\nTry "capsule keygen --help"\n`);
      assert.equal(keys.length, 0);
    });
  }
});

Deno.test("runCli() version prints capsule's and Deno's versions", async () => {
  for (const argv of [["version"], ["--version"]]) {
    const { code, stdout } = await run(argv);
    assert.equal(code, 0);
    assert.equal(stdout, `capsule 1.2.3 (Deno ${Deno.version.deno})\n`);
  }
});

Deno.test("runCli() totp-secret prints a new secret and its otpauth URI", async () => {
  const first = await run(["totp-secret", "alice"]);
  assert.equal(first.code, 0, first.stderr);
  const [secret, uri, ...rest] = first.stdout.split("\n");
  assert.deepEqual(rest, [""]);
  assert.match(secret!, /^[A-Z2-7]{32}$/);
  const parsed = new URL(uri!);
  assert.equal(parsed.protocol, "otpauth:");
  assert.equal(parsed.host, "totp");
  assert.equal(parsed.pathname, "/capsule:alice");
  assert.equal(parsed.searchParams.get("secret"), secret);
  assert.equal(parsed.searchParams.get("issuer"), "capsule");
  assert.equal(parsed.searchParams.get("algorithm"), "SHA1");
  assert.equal(parsed.searchParams.get("digits"), "6");
  assert.equal(parsed.searchParams.get("period"), "30");
  const second = await run(["totp-secret", "--issuer", "ssh.example.com", "alice"]);
  assert.notEqual(second.stdout.split("\n")[0], secret, "the same secret twice");
  assert.match(second.stdout, /otpauth:\/\/totp\/ssh\.example\.com:alice\?/);
});

Deno.test("runCli() totp-secret refuses a missing or bad user name with exit 2", async (t) => {
  const cases: [string[], RegExp][] = [
    [["totp-secret"], /missing argument USER/],
    [["totp-secret", "alice", "bob"], /unexpected argument "bob"/],
    [["totp-secret", "al ice"], /USER must be a user name/],
    [["totp-secret", "--issuer", "a:b", "alice"], /--issuer must be a name without ":"/],
  ];
  for (const [argv, message] of cases) {
    await t.step(argv.join(" "), async () => {
      const result = await run(argv);
      assert.equal(result.code, 2);
      assert.equal(result.stdout, "");
      assert.match(result.stderr, message);
    });
  }
});
