import { preparedStatementName } from '../../src/adapters/prisma/prepared-statements';

describe('preparedStatementName', () => {
  it('names a statement that starts with the marker, leading whitespace allowed', () => {
    expect(preparedStatementName('/* prepared: append_messages */\n WITH input AS (SELECT 1)')).toBe('chat_append_messages');
    expect(preparedStatementName('\n  /* prepared: issue_refresh_token */ WITH x AS (SELECT 1) SELECT 1')).toBe('chat_issue_refresh_token');
  });

  it('leaves every other statement unnamed (parsed each time)', () => {
    expect(preparedStatementName('SELECT 1')).toBe('');
    expect(preparedStatementName('SELECT 1 /* prepared: late_marker */')).toBe('');
    expect(preparedStatementName('/* prepared: Upper */ SELECT 1')).toBe('');
    expect(preparedStatementName('/* a comment */ SELECT 1')).toBe('');
  });
});
