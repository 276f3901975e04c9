"""Raw-SQL limits of chat's read paths: the hand-written query an endpoint is
measured against. Not used by the app: the benchmarks (bench/paths.py,
docs/PERFORMANCE.md) and the load test's serving limit
(loadtest/serving_limit.py, docs/operations.md "Load test") both run it, and
import it from here because they may not import each other (.importlinter).
"""

#: The limit for one page of the API's response (top-level messages, newest
#: first, with their reply count and reactions, only if the caller may see
#: the channel): one keyset query, JSON built by the database.
RAW_PAGE_SQL = """
    SELECT m.id, m.channel_id, m.author_id, m.parent_id, m.body, m.created_at, m.edited_at,
           (SELECT count(*) FROM chat_message r WHERE r.parent_id = m.id) AS reply_count,
           COALESCE((SELECT json_agg(json_build_object(
                         'user', x.user_id, 'emoji', x.emoji, 'created_at', x.created_at)
                         ORDER BY x.created_at, x.id)
                     FROM chat_messagereaction x WHERE x.message_id = m.id), '[]') AS reactions
    FROM chat_message m
    JOIN chat_channel c ON c.id = m.channel_id
    WHERE m.channel_id = %s AND c.company_id = %s AND m.parent_id IS NULL
      AND (NOT c.is_private OR EXISTS (
           SELECT 1 FROM chat_channelmembership cm WHERE cm.channel_id = c.id AND cm.user_id = %s))
      AND (m.created_at, m.id) < (%s, %s)
    ORDER BY m.created_at DESC, m.id DESC
    LIMIT %s
"""
