"use client";

import { useEffect, useState } from "react";
import { Sparkline } from "./sparkline";

/** The shape of /api/status (see app/api/status/route.ts). */
interface Status {
  driver: string;
  pid: number;
  at: string;
  stats: {
    name: string;
    state: string;
    connects: number;
    failures: number;
    lastError: { message: string } | null;
    pool: { open: number | null; idle: number | null; inUse: number | null; waiting: number | null; max: number | null } | null;
  };
  serverConnections: number | null;
  serverConnectionsScope: string;
  databaseModuleEvaluations: number;
  entries: Array<{ entry: string; moduleEvaluation: number; uses: number; lastUsedAt: string }>;
}

const HISTORY = 60;

export function StatusView({ intervalMs }: { intervalMs: number }) {
  const [status, setStatus] = useState<Status | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [history, setHistory] = useState<Array<{ open: number; inUse: number; server: number }>>([]);

  useEffect(() => {
    let stopped = false;
    const poll = async () => {
      try {
        const res = await fetch("/api/status", { cache: "no-store" });
        const next = (await res.json()) as Status;
        if (stopped) return;
        setStatus(next);
        setError(null);
        const pool = next.stats.pool;
        setHistory((h) => [...h, { open: pool?.open ?? 0, inUse: pool?.inUse ?? 0, server: next.serverConnections ?? 0 }].slice(-HISTORY));
      } catch (err) {
        if (!stopped) setError((err as Error).message);
      }
    };
    void poll();
    const timer = setInterval(poll, intervalMs);
    return () => {
      stopped = true;
      clearInterval(timer);
    };
  }, [intervalMs]);

  if (!status) return <p>{error ? `Cannot reach /api/status: ${error}` : "Loading…"}</p>;
  const pool = status.stats.pool;
  const bundles = new Set(status.entries.map((e) => e.moduleEvaluation)).size;
  const tile = (id: string, label: string, value: number | string | null | undefined) => (
    <div className="tile">
      <div className="value" data-testid={id}>
        {value ?? "–"}
      </div>
      <div className="label">{label}</div>
    </div>
  );

  return (
    <>
      <h1>
        Pool status <small style={{ fontWeight: 400, fontSize: 16 }}>({status.driver}, process {status.pid})</small>
      </h1>
      <p data-testid="summary">
        <strong className={status.stats.connects === 1 ? "ok" : "bad"}>
          {status.stats.connects === 1 ? "One pool serves everything" : `${status.stats.connects} connects`}
        </strong>
        : {status.entries.length} entry points in {bundles} bundles used it; lib/database.ts was evaluated{" "}
        {status.databaseModuleEvaluations} times and connected {status.stats.connects} time(s). State:{" "}
        <span data-testid="state" className={status.stats.state === "connected" ? "ok" : "bad"}>
          {status.stats.state}
        </span>
        {error ? <span className="bad"> (last poll failed: {error})</span> : null}
      </p>
      <div className="tiles">
        {tile("open", "open", pool?.open)}
        {tile("idle", "idle", pool?.idle)}
        {tile("in-use", "in use", pool?.inUse)}
        {tile("waiting", "waiting", pool?.waiting)}
        {tile("max", "pool max", pool?.max)}
        {tile("connects", "connects", status.stats.connects)}
        {tile("failures", "failures", status.stats.failures)}
        {tile("server-connections", `on the server (${status.serverConnectionsScope})`, status.serverConnections)}
      </div>
      <Sparkline
        max={pool?.max ?? 1}
        series={[
          { label: "open", color: "#1f6feb", values: history.map((h) => h.open) },
          { label: "in use", color: "#d4761c", values: history.map((h) => h.inUse) },
          { label: "on the server", color: "#8fd19e", width: 7, values: history.map((h) => h.server) },
        ]}
      />
      <h2>Entry points that used the pool</h2>
      <table data-testid="entries">
        <thead>
          <tr>
            <th>entry point</th>
            <th>bundle (evaluation of lib/database.ts)</th>
            <th>uses</th>
            <th>last used</th>
          </tr>
        </thead>
        <tbody>
          {status.entries.map((e) => (
            <tr key={`${e.entry}#${e.moduleEvaluation}`}>
              <td>{e.entry}</td>
              <td>#{e.moduleEvaluation}</td>
              <td>{e.uses}</td>
              <td>{new Date(e.lastUsedAt).toLocaleTimeString()}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {status.stats.lastError ? <p className="bad">Last error: {status.stats.lastError.message}</p> : null}
    </>
  );
}
