// B5 of `make bench` (docs/decisions/bench.md): the `sqs-consumer` npm package with a no-op
// handler on a moto queue, the comparison for dripr's consumer.
//   node consume.js send QUEUE_URL N BODY   loads N messages (batches of 10) and exits
//   node consume.js consume QUEUE_URL N     prints "started", consumes until N messages were
//                                           handled, prints "done N SECONDS", then waits for
//                                           SIGTERM (so the driver can read /proc first)
//   node consume.js consume-batch QUEUE_URL N  the same with `handleMessageBatch` (a receive's
//                                           messages handed over at once, acknowledged with one
//                                           DeleteMessageBatch instead of a DeleteMessage each)
// AWS_ENDPOINT_URL, AWS_REGION and the credentials come from the environment.
'use strict';
const { Consumer } = require('sqs-consumer');
const { SQSClient, SendMessageBatchCommand } = require('@aws-sdk/client-sqs');

const [mode, queueUrl, nText, body] = process.argv.slice(2);
const n = Number.parseInt(nText, 10);
if (!['send', 'consume', 'consume-batch'].includes(mode) || !queueUrl || !(n > 0)) {
  console.error('usage: consume.js send QUEUE_URL N BODY | consume|consume-batch QUEUE_URL N');
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

function consume(batch) {
  let handled = 0;
  let t0 = 0;
  const count = (k) => {
    if (handled === 0) t0 = process.hrtime.bigint();
    const before = handled;
    handled += k;
    if (before < n && handled >= n) {
      const s = Number(process.hrtime.bigint() - t0) / 1e9;
      console.log(`done ${handled} ${s.toFixed(3)}`);
    }
  };
  // The handler returns what it acknowledges: sqs-consumer deletes those (an undefined return
  // does not).
  const handlers = batch
    ? {
        handleMessageBatch: async (messages) => {
          count(messages.length);
          return messages;
        },
      }
    : {
        handleMessage: async (message) => {
          count(1);
          return message;
        },
      };
  const app = Consumer.create({ queueUrl, sqs, batchSize: 10, waitTimeSeconds: 20, ...handlers });
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
  consume(mode === 'consume-batch');
}
