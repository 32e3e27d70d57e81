import { useState } from 'preact/hooks';
import { api, errorText, unlessAbsent } from '../lib/api';
import { useLive } from '../lib/ws';
import { ago } from '../lib/format';
import { Action, Badge, Card, Empty, Field, Json, LiveData } from '../components';
import type { PageProps } from '../app';

export function Settings({ me }: PageProps) {
  return (
    <div class="page">
      <div class="title-row"><h1>Settings</h1></div>
      {me.role === 'admin' && <SetupInterview />}
      <Devices />
      <Wallet />
    </div>
  );
}

function Devices() {
  const devices = useLive(() => unlessAbsent(api.get<{ items: any[] }>('/api/runtime/devices')), ['plugin.*']);
  const [name, setName] = useState('');
  const [pairing, setPairing] = useState<{ id: string; code: string; expiresAt: string } | null>(null);
  if (devices.data === null) return null;
  return (
    <Card title="Devices">
      <div class="row">
        <Field label="Device name"><input value={name} onInput={e => setName((e.target as HTMLInputElement).value)} placeholder="phone" data-testid="device-name" /></Field>
        <Action kind="primary" testid="pair" disabled={!name.trim()} onRun={async () => {
          setPairing(await api.post('/api/runtime/devices/pair', { name: name.trim() }));
          devices.reload();
        }}>Pair a device</Action>
      </div>
      {pairing && <p data-testid="pair-code">Enter <b><code>{pairing.code}</code></b> on the device (device id <code>{pairing.id}</code>), before {new Date(pairing.expiresAt).toLocaleTimeString()}.</p>}
      <LiveData live={devices}>{d => !d || d.items.length === 0 ? <Empty>No devices yet.</Empty> : (
        <table class="table" data-testid="devices"><thead><tr><th>Name</th><th>State</th><th>Created</th><th /></tr></thead>
          <tbody>{d.items.map(x => (
            <tr key={x.id}><td><b>{x.name}</b> <small class="muted">{x.id}</small></td><td><Badge value={x.state} /></td><td>{ago(x.createdAt)}</td>
              <td>{x.state !== 'revoked' && <Action kind="danger" onRun={async () => { await api.del(`/api/runtime/devices/${x.id}`); devices.reload(); }}>Revoke</Action>}</td></tr>
          ))}</tbody></table>
      )}</LiveData>
    </Card>
  );
}

function Wallet() {
  const address = useLive(() => unlessAbsent(api.get<{ address: string }>('/api/wallet/address')), []);
  const [balance, setBalance] = useState<any>();
  const [error, setError] = useState<unknown>();
  if (address.data === null) return null;
  return (
    <Card title="Wallet">
      <LiveData live={address}>{a => a && <p>Address <code data-testid="wallet-address">{a.address}</code></p>}</LiveData>
      <Action testid="wallet-balance" onRun={async () => {
        setError(undefined);
        try { setBalance(await api.get('/api/wallet/balance')); } catch (err) { setBalance(undefined); setError(err); }
      }}>Read balance</Action>
      {balance && <p>{balance.native.amount} {balance.native.symbol}{balance.usdc ? ` · ${balance.usdc.amount} USDC` : ''} · platform spend ${balance.credits.spent} ({balance.credits.turns} turns)</p>}
      {error !== undefined && <p class="error-text" data-testid="wallet-error">{errorText(error)}</p>}
    </Card>
  );
}

interface Step { id: string; done: boolean; question: { key: string; text: string; secret: boolean } | null; retry?: boolean; problem?: string }

/** The interview plugin's setup conversation: question by question, then the proposal, then apply. */
export function SetupInterview() {
  const [step, setStep] = useState<Step | null>(null);
  const [answer, setAnswer] = useState('');
  const [proposal, setProposal] = useState<{ applied: boolean; changes: Array<{ path: string; before: unknown; after: unknown }> } | null>(null);
  return (
    <Card title="Setup interview">
      {!step && <Action kind="primary" testid="interview-start" onRun={async () => setStep(await api.post('/api/interview/start', {}))}>Start the setup interview</Action>}
      {step?.question && (
        <form class="row" onSubmit={e => e.preventDefault()}>
          <Field label={step.question.text}>
            <input type={step.question.secret ? 'password' : 'text'} value={answer} data-testid="interview-answer" onInput={e => setAnswer((e.target as HTMLInputElement).value)} />
          </Field>
          <Action testid="interview-send" onRun={async () => { setStep(await api.post('/api/interview/turn', { id: step.id, answer })); setAnswer(''); }}>Answer</Action>
        </form>
      )}
      {step?.retry && <p class="error-text" data-testid="interview-problem">{step.problem}</p>}
      {step?.done && !proposal && <Action kind="primary" testid="interview-propose" onRun={async () => setProposal(await api.post('/api/interview/finish', { id: step.id }))}>Show the proposed configuration</Action>}
      {proposal && (
        <div data-testid="interview-proposal">
          <table class="table"><thead><tr><th>Setting</th><th>Now</th><th>Proposed</th></tr></thead>
            <tbody>{proposal.changes.map(c => <tr key={c.path}><td><code>{c.path}</code></td><td><Json value={c.before} /></td><td><Json value={c.after} /></td></tr>)}</tbody></table>
          {proposal.applied ? <p><Badge value="applied" tone="ok" /> The configuration is in place.</p>
            : <Action kind="primary" testid="interview-apply" onRun={async () => setProposal(await api.post('/api/interview/finish', { id: step!.id, confirm: true }))}>Apply</Action>}
        </div>
      )}
    </Card>
  );
}
