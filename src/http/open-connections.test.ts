import assert from "node:assert/strict";
import { test } from "node:test";
import { OpenConnections, type Listed } from "./open-connections.ts";

const item = (name: string): Listed & { name: string } => ({ name, listIndex: -1 });

test("OpenConnections keeps what was added and not deleted, whatever the order of deletions", () => {
  const list = new OpenConnections<ReturnType<typeof item>>();
  const items = Array.from({ length: 50 }, (_, index) => item(String(index)));
  for (const each of items) list.add(each);
  list.add(items[0]!);
  assert.equal(list.size, 50, "adding twice adds once");
  // Every third, in an order that moves the last item into the gaps.
  const gone = items.filter((_, index) => index % 3 === 0).reverse();
  for (const each of gone) list.delete(each);
  list.delete(items[0]!);
  list.delete(item("never added"));
  const seen: string[] = [];
  list.forEach((each) => seen.push(each.name));
  assert.deepEqual(seen.sort(), items.filter((_, index) => index % 3 !== 0).map((each) => each.name).sort());
  assert.ok(gone.every((each) => each.listIndex === -1));
});

test("a visit may delete the item it is given; every item is still visited once", () => {
  const list = new OpenConnections<ReturnType<typeof item>>();
  const items = Array.from({ length: 10 }, (_, index) => item(String(index)));
  for (const each of items) list.add(each);
  const seen: string[] = [];
  list.forEach((each) => {
    seen.push(each.name);
    if (Number(each.name) % 2 === 0) list.delete(each);
  });
  assert.deepEqual(seen.sort(), items.map((each) => each.name).sort());
  assert.equal(list.size, 5);
});
