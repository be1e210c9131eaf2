// B5 of `make bench` (docs/decisions/bench.md): the `sqs-consumer` npm package with a no-op
// handler on a moto queue, the comparison for dripr's consumer.
//   node consume.js send QUEUE_URL N BODY   loads N messages (batches of 10) and exits
//   node consume.js consume QUEUE_URL N     prints "started", consumes until N messages were
//                                           handled, prints "done N SECONDS", then waits for
//                                           SIGTERM (so the driver can read /proc first)
// AWS_ENDPOINT_URL, AWS_REGION and the credentials come from the environment.
'use strict';
const { Consumer } = require('sqs-consumer');
const { SQSClient, SendMessageBatchCommand } = require('@aws-sdk/client-sqs');

const [mode, queueUrl, nText, body] = process.argv.slice(2);
const n = Number.parseInt(nText, 10);
if (!['send', 'consume'].includes(mode) || !queueUrl || !(n > 0)) {
  console.error('usage: consume.js send QUEUE_URL N BODY | consume QUEUE_URL N');
  process.exit(2);
}
const sqs = new SQSClient({ endpoint: process.env.AWS_ENDPOINT_URL });

async function send() {
  for (let i = 0; i < n; i += 10) {
    const entries = [];
    for (let j = i; j < Math.min(n, i + 10); j++) entries.push({ Id: `m${j}`, MessageBody: body });
    await sqs.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries }));
  }
}

function consume() {
  let handled = 0;
  let t0 = 0;
  const app = Consumer.create({
    queueUrl,
    sqs,
    batchSize: 10,
    waitTimeSeconds: 20,
    handleMessage: async (message) => {
      if (handled === 0) t0 = process.hrtime.bigint();
      handled += 1;
      if (handled === n) {
        const s = Number(process.hrtime.bigint() - t0) / 1e9;
        console.log(`done ${handled} ${s.toFixed(3)}`);
      }
      return message; // acknowledged: sqs-consumer deletes it (an undefined return does not)
    },
  });
  app.on('error', (err) => console.error(`sqs-consumer error: ${err.message}`));
  process.on('SIGTERM', () => {
    app.stop();
    process.exit(0);
  });
  app.start();
  console.log('started');
}

if (mode === 'send') {
  send().catch((err) => {
    console.error(`send: ${err.message}`);
    process.exit(1);
  });
} else {
  consume();
}
