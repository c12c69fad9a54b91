-- CreateTable
CREATE TABLE "read_cursors" (
    "room_id" TEXT NOT NULL,
    "user_id" TEXT NOT NULL,
    "last_read_seq" INTEGER NOT NULL,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "read_cursors_pkey" PRIMARY KEY ("room_id","user_id")
);

-- AddForeignKey
ALTER TABLE "read_cursors" ADD CONSTRAINT "read_cursors_room_id_user_id_fkey" FOREIGN KEY ("room_id", "user_id") REFERENCES "memberships"("room_id", "user_id") ON DELETE CASCADE ON UPDATE CASCADE;
