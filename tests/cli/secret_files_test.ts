import { deepStrictEqual, doesNotMatch, equal, fail, match } from "node:assert/strict";
import { FlagError, type NodeOptions, readSecretFiles } from "../../lib/cli/mod.ts";
import { withTempDir } from "../_helpers/temp_dir.ts";
import { options, PEERS } from "./_parse_helpers.ts";

async function writeSecret(path: string, text: string, mode: number): Promise<void> {
  await Deno.writeTextFile(path, text);
  await Deno.chmod(path, mode);
}

function withFiles(files: string[]): NodeOptions {
  return options([...PEERS, ...files]);
}

Deno.test("readSecretFiles reads each secret from its file without the final newline", async () => {
  await withTempDir(async (dir) => {
    await writeSecret(`${dir}/secret`, "two words\n", 0o600);
    await writeSecret(`${dir}/key`, "sk-local-123\r\n", 0o400);
    const { options, warnings } = await readSecretFiles(
      withFiles(["--cluster-secret-file", `${dir}/secret`, "--api-key-file", `${dir}/key`]),
    );
    equal(options.clusterSecret, "two words");
    equal(options.apiKey, "sk-local-123");
    deepStrictEqual(warnings, []);
  });
});

Deno.test("readSecretFiles keeps a secret that ends in blank lines but the last", async () => {
  await withTempDir(async (dir) => {
    await writeSecret(`${dir}/secret`, "s3cret\n\n", 0o600);
    const { options } = await readSecretFiles(
      withFiles(["--cluster-secret-file", `${dir}/secret`]),
    );
    equal(options.clusterSecret, "s3cret\n");
  });
});

Deno.test("readSecretFiles leaves options without secret files as they are", async () => {
  const given = options(PEERS, { HOME: "/home/ada", EXO_CLUSTER_SECRET: "env" });
  const { options: read, warnings } = await readSecretFiles(given);
  deepStrictEqual(read, given);
  deepStrictEqual(warnings, []);
});

Deno.test("readSecretFiles warns about a file other users can read, and uses it", async () => {
  await withTempDir(async (dir) => {
    await writeSecret(`${dir}/secret`, "s3cret", 0o644);
    const { options, warnings } = await readSecretFiles(
      withFiles(["--cluster-secret-file", `${dir}/secret`]),
    );
    equal(options.clusterSecret, "s3cret");
    deepStrictEqual(warnings, [
      `--cluster-secret-file ${dir}/secret can be read by other users (mode 644); make it private with chmod 600 ${dir}/secret`,
    ]);
  });
});

/** The message of the FlagError `files` raise, failing when they are read. */
async function errorOf(files: string[]): Promise<string> {
  try {
    await readSecretFiles(withFiles(files));
  } catch (error) {
    if (error instanceof FlagError) return error.message;
    throw error;
  }
  return fail(`readSecretFiles accepted ${files.join(" ")}`);
}

Deno.test("readSecretFiles names the flag and the absolute path of a missing file", async () => {
  await withTempDir(async (dir) => {
    equal(
      await errorOf(["--cluster-secret-file", `${dir}/none`]),
      `Cannot read --cluster-secret-file ${dir}/none: no such file`,
    );
  });
});

Deno.test("readSecretFiles refuses an empty file and a folder", async () => {
  await withTempDir(async (dir) => {
    await writeSecret(`${dir}/empty`, "\n", 0o600);
    equal(
      await errorOf(["--api-key-file", `${dir}/empty`]),
      `Cannot use --api-key-file ${dir}/empty: the file is empty`,
    );
    equal(
      await errorOf(["--cluster-secret-file", dir]),
      `Cannot read --cluster-secret-file ${dir}: it is a directory`,
    );
  });
});

Deno.test("readSecretFiles refuses an API key that is no bearer token without showing it", async () => {
  await withTempDir(async (dir) => {
    await writeSecret(`${dir}/key`, "two words\n", 0o600);
    const message = await errorOf(["--api-key-file", `${dir}/key`]);
    match(message, /^Cannot use --api-key-file .*key: the key must be printable ASCII/);
    doesNotMatch(message, /two words/);
  });
});

Deno.test({
  name: "readSecretFiles refuses a file it may not read (skipped as root, who reads any file)",
  // root reads any file whatever its mode.
  ignore: Deno.uid() === 0,
  fn: async () => {
    await withTempDir(async (dir) => {
      await writeSecret(`${dir}/secret`, "s3cret", 0o000);
      equal(
        await errorOf(["--cluster-secret-file", `${dir}/secret`]),
        `Cannot read --cluster-secret-file ${dir}/secret: permission denied`,
      );
    });
  },
});
