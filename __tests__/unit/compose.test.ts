// The compose file check that runs before any change on the host.
import { checkCompose, defaultProject } from '../../src/deploy/runtime/compose.js';

const cfg = {
  file: '/srv/myapp/docker-compose.yml',
  services: { blue: 'blue', green: 'green' },
  imageEnv: 'IMAGE',
};
const file = (blue: string, green: string) => `services:\n  blue:\n${blue}\n  green:\n${green}\n`;

test('a good file: both services read the image from ${IMAGE}, ports from short and long syntax', () => {
  const text = file(
    '    image: ${IMAGE}\n    ports: ["127.0.0.1:3001:3000"]',
    '    image: "$IMAGE"\n    ports:\n      - target: 3000\n        published: 3002',
  );
  expect(checkCompose(text, cfg)).toEqual({ ports: { blue: 3001, green: 3002 }, errors: [] });
});

test('network_mode: host takes the color port from PORT in the environment (map or list)', () => {
  const text = file(
    '    image: ${IMAGE:-x}\n    network_mode: host\n    environment:\n      PORT: "3101"',
    '    image: ${IMAGE}\n    network_mode: host\n    environment: ["PORT=3102"]',
  );
  expect(checkCompose(text, cfg)).toEqual({ ports: { blue: 3101, green: 3102 }, errors: [] });
});

test.each([
  ['invalid YAML', 'services:\n  blue: [x: y: z\n', /is not valid YAML/],
  ['no services', 'version: "3"\n', /has no services: section/],
  [
    'a missing service',
    file('    image: ${IMAGE}', '    image: ${IMAGE}').replace('green:', 'purple:'),
    /has no service green \(compose-services names blue,green; it has blue, purple\)/,
  ],
  [
    'a fixed image',
    file('    image: myapp:latest', '    image: ${IMAGE}'),
    /service blue in .* does not take its image from \$\{IMAGE\} \(image: "myapp:latest"\)/,
  ],
  [
    'a similar variable',
    file('    image: ${IMAGES}', '    image: ${IMAGE}'),
    /service blue .* does not take its image from \$\{IMAGE\}/,
  ],
  [
    'colliding ports',
    file('    image: ${IMAGE}\n    ports: ["3001:3000"]', '    image: ${IMAGE}\n    ports: ["3001:3000"]'),
    /both publish port 3001/,
  ],
])('%s is refused with a line naming it', (_name, text, re) => {
  const r = checkCompose(text, cfg);
  expect(r.errors.join('\n')).toMatch(re);
});

test('a custom image variable and service names', () => {
  const text = 'services:\n  web-a:\n    image: ${APP_IMAGE}\n  web-b:\n    image: ${APP_IMAGE}\n';
  expect(
    checkCompose(text, { ...cfg, services: { blue: 'web-a', green: 'web-b' }, imageEnv: 'APP_IMAGE' }).errors,
  ).toEqual([]);
});

test("compose's default project name is the file's directory, lowercased, [a-z0-9_-] only", () => {
  expect(defaultProject('/srv/My.App_1/docker-compose.yml')).toBe('myapp_1');
  expect(defaultProject('/home/deploy/apps/shop/compose.yaml')).toBe('shop');
});
