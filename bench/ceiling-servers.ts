// The ceilings for `npm run bench:http`: no Fastify server can answer faster than these on the same
// machine, so they bound what inferd and the naive server can reach.
//
//   GET  /      hello world: {"hello":"world"}
//   POST /echo  an application/octet-stream body, sent back as it came
//
// node dist/bench/ceiling-servers.js [--port 8002] [--host 127.0.0.1]
import { parseArgs } from 'node:util';
import Fastify from 'fastify';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '8002' },
    host: { type: 'string', default: '127.0.0.1' },
  },
  strict: true,
});

const app = Fastify({ logger: false });
app.addContentTypeParser('application/octet-stream', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));

app.get('/', async () => ({ hello: 'world' }));
app.post('/echo', async (request, reply) => reply.header('content-type', 'application/octet-stream').send(request.body));

await app.listen({ host: values.host, port: Number(values.port) });

const stop = () => {
  void app.close().then(() => process.exit(0), () => process.exit(1));
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
