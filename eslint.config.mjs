import nx from '@nx/eslint-plugin';

export default [
  ...nx.configs['flat/base'],
  ...nx.configs['flat/typescript'],
  { ignores: ['**/dist', '**/node_modules', '**/*.cjs', 'tools/native-backend/**'] },
  {
    files: ['**/*.ts'],
    rules: {
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: false,
          allow: [],
          depConstraints: [
            // apps compose packages; packages never import apps
            { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:lib'] },
            { sourceTag: 'type:lib', onlyDependOnLibsWithTags: ['type:lib'] },
            { sourceTag: 'type:tool', onlyDependOnLibsWithTags: ['type:lib', 'type:tool'] },
            // layers import only downward: foundation (core, nn) -> components (data, text, vision,
            // losses, pseudo-mask, metrics…) -> composition (model, heads, train) -> apps
            { sourceTag: 'layer:foundation', onlyDependOnLibsWithTags: ['layer:foundation'] },
            { sourceTag: 'layer:component', onlyDependOnLibsWithTags: ['layer:foundation', 'layer:component'] },
            { sourceTag: 'layer:composition', onlyDependOnLibsWithTags: ['layer:foundation', 'layer:component', 'layer:composition'] },
            { sourceTag: 'layer:app', onlyDependOnLibsWithTags: ['type:lib'] },
          ],
        },
      ],
      '@typescript-eslint/no-explicit-any': 'warn',
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
];
