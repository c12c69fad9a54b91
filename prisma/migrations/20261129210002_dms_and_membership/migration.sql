-- Direct messages (issue #14): a room is a group room or the one direct room of a pair.
-- Additive only: existing rooms become 'group' rooms, and nothing else changes.

-- CreateEnum
CREATE TYPE "RoomKind" AS ENUM ('group', 'dm');

-- AlterTable
ALTER TABLE "rooms" ADD COLUMN "kind" "RoomKind" NOT NULL DEFAULT 'group';

-- The pair of a direct room, "<smaller userId> <larger userId>" (a userId has no space);
-- NULL for group rooms. Unique, so two requests for the same pair at the same moment, on
-- any instances, end with one room: the loser's INSERT … ON CONFLICT DO NOTHING writes
-- nothing and it reads the winner's room.
-- AlterTable
ALTER TABLE "rooms" ADD COLUMN "dm_key" TEXT;

-- CreateIndex
CREATE UNIQUE INDEX "rooms_dm_key_key" ON "rooms"("dm_key");

-- GET /api/rooms pages a user's rooms oldest first, by (created_at, id).
-- CreateIndex
CREATE INDEX "rooms_created_at_id_idx" ON "rooms"("created_at", "id");
