import { describe, expect, it } from 'vitest';
import { redactText, redactUrl } from '../../src/errors.js';

describe('redactUrl / redactText', () => {
  it('hides the password up to the last @, as ioredis and WHATWG URLs read the credentials', () => {
    expect(redactUrl('redis://default:p@ss@127.0.0.1:6379/0')).toBe('redis://default:***@127.0.0.1:6379/0');
    expect(redactUrl('redis://:pw@host:1')).toBe('redis://:***@host:1');
    expect(redactUrl('mysql://u:a@b@db.example.com/erp?socket=/run/mysqld/mysqld.sock')).toBe(
      'mysql://u:***@db.example.com/erp?socket=/run/mysqld/mysqld.sock',
    );
  });

  it('leaves URLs without a password alone', () => {
    expect(redactUrl('redis://127.0.0.1:6379/0')).toBe('redis://127.0.0.1:6379/0');
    expect(redactUrl('rediss://pyrquser@host')).toBe('rediss://pyrquser@host');
  });

  it('redacts URLs inside text and the known secrets anywhere', () => {
    expect(redactText('cannot reach redis://default:p@ss@h:1/0 (WRONGPASS) or "mysql://a:b@c/d"; mail x@y', [])).toBe(
      'cannot reach redis://default:***@h:1/0 (WRONGPASS) or "mysql://a:***@c/d"; mail x@y',
    );
    expect(redactText('auth failed for hunter22', ['hunter22'])).toBe('auth failed for ***');
  });
});
