import { describe, expect, it } from 'vitest';
import { encodeStats, statsReplyKind } from '../../src/protocol/encoder.js';
import { b, expectFailure, expectReplies, st, sts } from './support.js';

// Every reply below is what memcached 1.6.18 sent (checked with raw sockets; meta-real.test.ts
// repeats the ones a test can provoke).
describe('stats groups at every split', () => {
  it('stats reset -> RESET', () => {
    expectReplies(['stats', 'mn'], b('RESET\r\nMN\r\n'), [sts([], [], 'RESET'), st('MN')]);
  });

  it('stats detail on|off -> OK', () => {
    expectReplies(['stats', 'stats'], b('OK\r\nOK\r\n'), [sts([], [], 'OK'), sts([], [], 'OK')]);
  });

  it('stats detail dump -> PREFIX lines then END', () => {
    expectReplies(['stats'], b('PREFIX b get 1 hit 0 set 0 del 0\r\nPREFIX a get 1 hit 1 set 1 del 1\r\nEND\r\n'),
      [sts([], ['PREFIX b get 1 hit 0 set 0 del 0', 'PREFIX a get 1 hit 1 set 1 del 1'])]);
    expectReplies(['stats'], b('END\r\n'), [sts([])]);
  });

  it('stats cachedump <slab> <n> -> ITEM lines then END', () => {
    expectReplies(['stats'], b('ITEM bar [1 b; 0 s]\r\nITEM foo [3 b; 1796000000 s]\r\nEND\r\n'),
      [sts([], ['ITEM bar [1 b; 0 s]', 'ITEM foo [3 b; 1796000000 s]'])]);
  });

  it('stats sizes, conns, settings -> STAT lines then END', () => {
    expectReplies(['stats'], b('STAT sizes_status disabled\r\nEND\r\n'), [sts([['sizes_status', 'disabled']])]);
    expectReplies(['stats'], b('STAT 23:addr tcp:127.0.0.1:49175\r\nSTAT 23:state conn_listening\r\nEND\r\n'),
      [sts([['23:addr', 'tcp:127.0.0.1:49175'], ['23:state', 'conn_listening']])]);
  });

  it('stats sizes_enable|sizes_disable -> one STAT line and no END (kind stats_line)', () => {
    expect(statsReplyKind('sizes_enable')).toBe('stats_line');
    expect(statsReplyKind('sizes_disable')).toBe('stats_line');
    for (const g of [undefined, '', 'reset', 'detail dump', 'detail on', 'cachedump 1 10', 'sizes', 'slabs', 'items', 'settings', 'conns']) {
      expect(statsReplyKind(g)).toBe('stats');
      expect(() => encodeStats(g)).not.toThrow();
    }
    expectReplies(['stats_line', 'stats_line', 'mn'], b('STAT sizes_status enabled\r\nSTAT sizes_status disabled\r\nMN\r\n'),
      [sts([['sizes_status', 'enabled']], [], null), sts([['sizes_status', 'disabled']], [], null), st('MN')]);
    expectReplies(['stats_line'], b('CLIENT_ERROR x\r\n'), [{ kind: 'client_error', message: 'x' }]);
    expectFailure(['stats_line'], b('END\r\n'), [], 'unexpected reply to a stats_line request');
    expectFailure(['stats_line'], b('ITEM a [1 b; 0 s]\r\n'), [], 'unexpected reply to a stats_line request');
  });

  it('usage errors are error replies (the stream stays aligned)', () => {
    expectReplies(['stats', 'stats', 'stats'], b('CLIENT_ERROR usage: stats detail on|off|dump\r\nCLIENT_ERROR Illegal slab id\r\nERROR\r\n'), [
      { kind: 'client_error', message: 'usage: stats detail on|off|dump' }, { kind: 'client_error', message: 'Illegal slab id' }, { kind: 'error', message: '' },
    ]);
  });

  it('RESET and OK only as the whole reply; other words are protocol errors', () => {
    expectFailure(['stats'], b('STAT a 1\r\nRESET\r\n'), [], 'unexpected reply to a stats request');
    expectFailure(['stats'], b('ITEM a [1 b; 0 s]\r\nOK\r\n'), [], 'unexpected reply to a stats request');
    expectFailure(['stats'], b('ITEMS a\r\nEND\r\n'), [], 'unexpected reply to a stats request');
    expectFailure(['stats'], b('STAT \r\nEND\r\n'), [], 'unexpected reply to a stats request');
    expectFailure(['stats'], b('PREFIX\r\nEND\r\n'), [], 'unexpected reply to a stats request');
  });
});
