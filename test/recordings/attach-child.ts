/**
 * One recording through the real pipeline in a process of its own, so that pipeline.test.ts can run it as another
 * user than the tests'. Arguments: webhookUrl workDir path callId. Prints what happened as one JSON line.
 */
import { attachEntry, pipelineHandler, portalClient } from './helpers.js';

const [webhookUrl, workDir, path, callId] = process.argv.slice(2);
if (!webhookUrl || !workDir || !path || !callId) throw new Error('usage: attach-child.ts <webhookUrl> <workDir> <path> <callId>');
const { handler, counts, logger } = pipelineHandler(portalClient(webhookUrl), workDir);
await handler(attachEntry(path), callId);
const logs = logger.lines.map((l) => ({ level: l.level, msg: l.msg, reason: (l.obj as { reason?: string }).reason }));
const user = { uid: process.getuid?.(), gid: process.getgid?.(), groups: process.getgroups?.() };
process.stdout.write(`${JSON.stringify({ ...user, counts, logs })}\n`, () => process.exit(0));
