/**
 * Power-loss simulation: random concurrent appends on the crash-simulating MemoryFileIO, a crash at
 * a random moment, recovery. With sync mode `always`, every acknowledged record must be back, in
 * order, with nothing after a gap; with `none`, recovery must still succeed on a contiguous prefix.
 */
import { MemoryFileIO, SeededRandom } from "../memory_file_io.ts";
import type { WalEntry } from "./payload_codec.ts";
import { RecordType } from "./record_type.ts";
import type { SyncMode } from "./sync_mode.ts";
import type { WalRecord } from "./wal_recovery.ts";
import { WalWriter } from "./wal_writer.ts";
import { assert, assertEquals, testSeed } from "./_test_support.ts";

const DIR = "/data/c1/wal";

function randomEntry(random: SeededRandom, tag: number): WalEntry {
  if (random.int(4) === 0) return { type: RecordType.Delete, ids: [tag, `d${tag}`] };
  const points = Array.from({ length: 1 + random.int(3) }, (_, index) => ({
    id: `p${tag}-${index}`,
    vector: Float32Array.from({ length: 8 }, () => random.next()),
    metadata: `{"tag":${tag}}`,
  }));
  return { type: RecordType.Upsert, points };
}

interface Epoch {
  acked: Map<number, WalEntry>;
  issued: Map<number, WalEntry>;
}

/** Run random appenders against a fresh writer until a crash at a random microtask. */
async function runUntilCrash(
  io: MemoryFileIO,
  random: SeededRandom,
  syncMode: SyncMode,
  epoch: Epoch,
) {
  const wal = await WalWriter.open(io, DIR, {
    syncMode,
    segmentSizeBytes: 1024 + random.int(2048),
  });
  let crashed = false;
  const appender = async (appenderIndex: number) => {
    for (let step = 0; step < 200 && !crashed; step++) {
      const entry = randomEntry(random, appenderIndex * 1000 + step);
      const pending = wal.append(entry);
      epoch.issued.set(wal.nextLsn - 1, entry);
      try {
        epoch.acked.set(await pending, entry);
      } catch {
        return;
      }
    }
  };
  const appenders = Array.from({ length: 1 + random.int(8) }, (_, index) => appender(index));
  const ticks = random.int(3000);
  for (let tick = 0; tick < ticks; tick++) await Promise.resolve();
  const restarted = io.crash();
  crashed = true;
  await Promise.all(appenders);
  return restarted;
}

async function recoverAll(io: MemoryFileIO): Promise<WalRecord[]> {
  const records: WalRecord[] = [];
  const wal = await WalWriter.open(io, DIR, {
    replayAfterLsn: 0,
    onRecord: (r) => void records.push(r),
  });
  await wal.close();
  return records;
}

/** Counts that show the crashes hit live traffic. */
interface Tally {
  acked: number;
  droppedUnacked: number;
  keptUnacked: number;
}

async function powerLossRounds(label: string, syncMode: SyncMode, rounds: number): Promise<Tally> {
  const seed = testSeed(label);
  const random = new SeededRandom(seed);
  const tally: Tally = { acked: 0, droppedUnacked: 0, keptUnacked: 0 };
  for (let round = 0; round < rounds; round++) {
    let io = new MemoryFileIO({ seed: random.int(2 ** 31) });
    await io.mkdir(DIR);
    await io.syncDir("/");
    await io.syncDir("/data");
    const epoch: Epoch = { acked: new Map(), issued: new Map() };
    for (let crash = 0; crash < 3; crash++) {
      io = await runUntilCrash(io, random, syncMode, epoch);
      const records = await recoverAll(io);
      const context = `seed ${seed}, round ${round}, crash ${crash}:`;
      assertEquals(
        records.map((r) => r.lsn),
        records.map((_, index) => index + 1),
        `${context} gap`,
      );
      for (const record of records) {
        const { lsn, ...entry } = record;
        assertEquals(entry, epoch.issued.get(lsn), `${context} LSN ${lsn} content`);
      }
      tally.acked += epoch.acked.size;
      tally.keptUnacked += records.filter((record) => !epoch.acked.has(record.lsn)).length;
      tally.droppedUnacked += [...epoch.issued.keys()].filter((lsn) => lsn > records.length).length;
      if (syncMode.kind === "always") {
        const lastAcked = Math.max(0, ...epoch.acked.keys());
        assert(
          records.length >= lastAcked,
          `${context} lost acked LSN ${lastAcked}, kept ${records.length}`,
        );
      }
      // Records recovery dropped were never acknowledged; their LSNs get reused by the next epoch.
      for (const lsn of [...epoch.issued.keys()]) {
        if (lsn > records.length) epoch.issued.delete(lsn);
      }
      for (const lsn of [...epoch.acked.keys()]) {
        if (lsn > records.length) epoch.acked.delete(lsn);
      }
    }
  }
  return tally;
}

Deno.test("power loss with sync always: every acknowledged record survives, in order, no gap", async () => {
  const tally = await powerLossRounds("power loss always", { kind: "always" }, 60);
  assert(
    tally.acked > 1000 && tally.droppedUnacked > 0,
    `crashes missed the traffic: ${JSON.stringify(tally)}`,
  );
});

Deno.test("power loss with sync none: recovery keeps a contiguous, intact prefix", async () => {
  const tally = await powerLossRounds("power loss none", { kind: "none" }, 30);
  assert(tally.droppedUnacked > 0, `crashes lost nothing: ${JSON.stringify(tally)}`);
});
