-- Edit and delete of one's own messages (api.md v1.1). An edit or a delete is a new row in
-- the room's sequence (its own seq, id and clientMsgId) that names the original in "edits";
-- a delete event has "deleted" true and empty text. The original row is marked too (its
-- "text" is the current text, "edited_at" the last edit, "deleted" true and text '' once
-- deleted), in the same statement that appends the event: see docs/architecture.md.
-- Additive only: existing rows are originals, neither edited nor deleted.

-- AlterTable
ALTER TABLE "messages" ADD COLUMN "edits" TEXT,
ADD COLUMN "deleted" BOOLEAN NOT NULL DEFAULT false,
ADD COLUMN "edited_at" TIMESTAMPTZ(3);

-- CreateIndex
CREATE INDEX "messages_edits_idx" ON "messages"("edits");

-- AddForeignKey
ALTER TABLE "messages" ADD CONSTRAINT "messages_edits_fkey" FOREIGN KEY ("edits") REFERENCES "messages"("id") ON DELETE CASCADE ON UPDATE CASCADE;
