import assert from "node:assert/strict";
import { ComputeTurn } from "../../lib/inference/compute_turn.ts";

const TURN_MODULE = new URL("../../lib/inference/compute_turn.ts", import.meta.url).href;

/**
 * Another process holding the turn: it logs "child-start", prints "held", and on a line on
 * its stdin logs "child-end" and exits (which also releases the lock).
 */
const CHILD = `
import { ComputeTurn } from "${TURN_MODULE}";
const [lockPath, logPath] = Deno.args;
const turn = await ComputeTurn.open(lockPath);
await turn.run(async () => {
  await Deno.writeTextFile(logPath, "child-start\\n", { append: true });
  console.log("held");
  const reader = Deno.stdin.readable.getReader();
  await reader.read();
  reader.releaseLock();
  await Deno.writeTextFile(logPath, "child-end\\n", { append: true });
});
turn.close();
`;

async function withChild(
  dir: string,
  lockPath: string,
  logPath: string,
  body: (child: Deno.ChildProcess, stdin: WritableStreamDefaultWriter<Uint8Array>) => Promise<void>,
): Promise<void> {
  const script = `${dir}/child.ts`;
  await Deno.writeTextFile(script, CHILD);
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-read", "--allow-write", script, lockPath, logPath],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const stdin = child.stdin.getWriter();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  try {
    let output = "";
    while (!output.includes("\n")) {
      const { value, done } = await reader.read();
      assert.ok(!done, `the child ended before taking the turn, saying ${JSON.stringify(output)}`);
      output += value;
    }
    assert.equal(output, "held\n", "the child takes the turn");
    await body(child, stdin);
  } finally {
    try {
      child.kill();
    } catch {
      // Already exited.
    }
    await stdin.close().catch(() => {});
    await reader.cancel();
    await child.status;
  }
}

Deno.test("ComputeTurn runs of one process never overlap and keep their order", async () => {
  const dir = await Deno.makeTempDir();
  const turn = await ComputeTurn.open(`${dir}/lock`);
  try {
    let active = 0;
    const order: number[] = [];
    const work = (i: number) => async () => {
      active++;
      assert.equal(active, 1, "one run at a time");
      await Promise.resolve();
      order.push(i);
      active--;
      return i;
    };
    const results = await Promise.all([0, 1, 2, 3].map((i) => turn.run(work(i))));
    assert.deepEqual(results, [0, 1, 2, 3]);
    assert.deepEqual(order, [0, 1, 2, 3]);
    // A failed run passes the turn on.
    await assert.rejects(turn.run(() => Promise.reject(new Error("boom"))), /boom/);
    assert.equal(await turn.run(() => Promise.resolve("after")), "after");
  } finally {
    turn.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("ComputeTurn takes a free turn within microtasks, with no trip to a thread pool", async () => {
  const dir = await Deno.makeTempDir();
  const turn = await ComputeTurn.open(`${dir}/lock`);
  try {
    let started = false;
    const run = turn.run(() => {
      started = true;
      return Promise.resolve();
    });
    // Only microtasks run here: an operation finished on another thread would need the event
    // loop to turn, and a timer or I/O callback cannot run in between.
    for (let tick = 0; tick < 20 && !started; tick++) await Promise.resolve();
    assert.ok(started, "the run starts before the event loop turns");
    await run;
  } finally {
    turn.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("ComputeTurn waits while another process holds the turn", async () => {
  const dir = await Deno.makeTempDir();
  const lockPath = `${dir}/lock`;
  const logPath = `${dir}/log`;
  const turn = await ComputeTurn.open(lockPath);
  try {
    await withChild(dir, lockPath, logPath, async (child, stdin) => {
      const mine = turn.run(() => Deno.writeTextFile(logPath, "parent\n", { append: true }));
      await stdin.write(new TextEncoder().encode("go\n"));
      await mine;
      assert.equal((await child.status).code, 0);
    });
    assert.equal(await Deno.readTextFile(logPath), "child-start\nchild-end\nparent\n");
  } finally {
    turn.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("ComputeTurn goes on when the process holding the turn dies", async () => {
  const dir = await Deno.makeTempDir();
  const lockPath = `${dir}/lock`;
  const turn = await ComputeTurn.open(lockPath);
  try {
    await withChild(dir, lockPath, `${dir}/log`, async (child) => {
      const mine = turn.run(() => Promise.resolve("ran"));
      child.kill("SIGKILL");
      assert.equal(await mine, "ran");
    });
  } finally {
    turn.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("ComputeTurn names the lock file it cannot open", async () => {
  await assert.rejects(
    ComputeTurn.open("/nonexistent-dir/exo-node-compute.lock"),
    /Cannot open the compute lock file \/nonexistent-dir\/exo-node-compute\.lock/,
  );
});
