// Drives the official Motia stream client: prints one JSON line per observation,
// reads commands ("quit") from stdin. Usage: node client.mjs <ws-url> <token>
import { createInterface } from 'node:readline'
import { Stream } from '@motiadev/stream-client-node'

const [url, token] = process.argv.slice(2)
const print = (line) => process.stdout.write(JSON.stringify(line) + '\n')

const stream = new Stream(url, { protocols: ['Authorization', token] })
const group = stream.subscribeGroup('todo', 'inbox')
const item = stream.subscribeItem('todo', 'inbox', 'a')
const denied = stream.subscribeGroup('todo', 'secret')

for (const [name, sub] of [['group', group], ['item', item]]) {
  sub.addChangeListener((state) => print({ sub: name, type: 'change', state }))
  sub.onEvent('ping', (data) => print({ sub: name, type: 'event', data }))
}
denied.onEvent('error', (data) => print({ sub: 'denied', type: 'error', data }))

print({ type: 'ready' })

createInterface({ input: process.stdin }).on('line', (line) => {
  if (line.trim() === 'state') {
    print({ type: 'state', group: group.getState(), item: item.getState() })
  } else if (line.trim() === 'quit') {
    group.close()
    item.close()
    stream.close()
    setTimeout(() => process.exit(0), 100)
  }
})
