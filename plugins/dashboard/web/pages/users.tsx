import { api } from '../lib/api';
import { useLive } from '../lib/ws';
import { Action, Badge, Card, Empty, LiveData } from '../components';
import type { PageProps } from '../app';

interface UserRow { id: string; email: string; name?: string; role: 'admin' | 'user'; disabled: boolean; createdAt: string }

/**
 * Admins manage users: role, enabled/disabled, delete. A change takes effect on every kernel within
 * a second; a deleted user's objects stay (visible to admins).
 */
export function Users({ me }: PageProps) {
  return me.role === 'admin' ? <UserAdmin me={me} /> : <div class="page"><h1>Users</h1><Empty>Only admins manage users.</Empty></div>;
}

function UserAdmin({ me }: Pick<PageProps, 'me'>) {
  const users = useLive(() => api.get<{ items: UserRow[] }>('/api/users'), []);
  const change = async (u: UserRow, patch: Partial<Pick<UserRow, 'role' | 'disabled'>>) => { await api.patch(`/api/users/${u.id}`, patch); users.reload(); };
  return (
    <div class="page">
      <div class="title-row"><h1>Users</h1></div>
      <Card title="Accounts">
        <LiveData live={users}>{d => d.items.length === 0 ? <Empty>No users.</Empty> : (
          <table class="table" data-testid="users"><thead><tr><th>User</th><th>Role</th><th>State</th><th /></tr></thead>
            <tbody>{d.items.map(u => {
              const self = u.id === me.id;
              return (
                <tr key={u.id} data-user={u.email}>
                  <td><b>{u.email}</b>{u.name ? ` (${u.name})` : ''} <small class="mono muted">{u.id}</small></td>
                  <td><Badge value={u.role} /></td>
                  <td><Badge value={u.disabled ? 'disabled' : 'enabled'} /></td>
                  <td class="actions">
                    <Action kind="plain" disabled={self} title={self ? 'you cannot change your own role' : undefined}
                      onRun={() => change(u, { role: u.role === 'admin' ? 'user' : 'admin' })}>{u.role === 'admin' ? 'Make user' : 'Make admin'}</Action>
                    <Action kind="plain" disabled={self} testid={`toggle-${u.email}`}
                      onRun={() => change(u, { disabled: !u.disabled })}>{u.disabled ? 'Enable' : 'Disable'}</Action>
                    <Action kind="danger" disabled={self}
                      onRun={async () => { if (confirm(`Delete ${u.email}? Its tokens stop working; what it owned is kept.`)) { await api.del(`/api/users/${u.id}`); users.reload(); } }}>Delete</Action>
                  </td>
                </tr>
              );
            })}</tbody></table>
        )}</LiveData>
      </Card>
    </div>
  );
}
