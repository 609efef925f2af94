/**
 * End to end: the runtime contract (`tests/helpers/runtime_contract.ts`)
 * against the real engine of this run: the machine's Docker engine, or the
 * one `tests/helpers/with_engine.ts` started and `ENGINE_UNDER_TEST` names
 * (Podman, the TLS dockerd). capsule's runtime reaches it as capsule itself
 * would: through `DOCKER_HOST`, `DOCKER_TLS_VERIFY` and `DOCKER_CERT_PATH`.
 */
import { DockerRuntime } from "../../src/runtime/docker_runtime.ts";
import { requireEngine, requireImage } from "../helpers/docker.ts";
import { runtimeContract } from "../helpers/runtime_contract.ts";
import { engineUnderTest } from "../helpers/test_engine.ts";

Deno.test(`the runtime contract: DockerRuntime on the ${engineUnderTest()} engine`, async (t) => {
  await requireEngine();
  await requireImage("busybox:latest");
  const runtime = await DockerRuntime.open({ host: "" });
  const missing = await Deno.makeTempDir({ prefix: "capsule-no-engine-" });
  try {
    await runtimeContract(t, {
      runtime,
      unreachable: new DockerRuntime({ kind: "socket", path: `${missing}/absent.sock` }),
      image: "busybox:latest",
    });
  } finally {
    await Deno.remove(missing, { recursive: true });
  }
});
