import { createRegistry } from '../src/registry';

describe('createRegistry', () => {
  it('registers, creates, lists and names the valid choices on a typo', () => {
    const reg = createRegistry<{ width?: number }, { kind: string; width: number }>('backbone');
    reg.register('resnet50', (o) => ({ kind: 'resnet50', width: o.width ?? 64 }));
    reg.register('resnet18', () => ({ kind: 'resnet18', width: 64 }));
    expect(reg.list()).toEqual(['resnet18', 'resnet50']);
    expect(reg.create('resnet50', { width: 32 })).toEqual({ kind: 'resnet50', width: 32 });
    expect(() => reg.create('resnet5')).toThrow('unknown backbone "resnet5". Valid names: resnet18, resnet50');
    expect(() => reg.register('resnet18', () => ({ kind: 'x', width: 1 }))).toThrow(/already registered/);
  });
});
