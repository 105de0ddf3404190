//! The Phoenix Channels (V2 serializer) client for `killmails:lobby`.

pub mod machine;
