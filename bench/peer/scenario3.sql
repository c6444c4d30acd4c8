-- Scenario 3 (headline query), hand-written: the first 50 active patients in
-- dermagraph's default order (sort name, then id), each with consultations, procedures (provider, device sessions
-- with device and cartridge) and follow-ups, as one JSON document.
-- The database's own floor: run with `pgbench -n -f scenario3.sql URL`.
-- Nested orders follow dermagraph's loaders (start time, session id, due time);
-- timestamps are rendered as timestamptz and depth in mm, as the API shows them.
SELECT coalesce(json_agg(json_build_object(
         'id', p.id,
         'firstName', p.first_name,
         'lastName', p.last_name,
         'consultations', c.items,
         'procedures', pr.items,
         'followUps', f.items) ORDER BY p.sort_name, p.id), '[]'::json) AS patients
FROM (SELECT id, first_name, last_name, sort_name
        FROM patients
       WHERE archived_at IS NULL
       ORDER BY sort_name, id
       LIMIT 50) AS p
CROSS JOIN LATERAL (
  SELECT coalesce(json_agg(json_build_object(
           'id', c.id,
           'status', c.status,
           'startsAt', to_timestamp(c.starts_at_s),
           'endsAt', to_timestamp(c.ends_at_s)) ORDER BY c.starts_at_s, c.id), '[]'::json) AS items
    FROM consultations AS c
   WHERE c.patient_id = p.id) AS c
CROSS JOIN LATERAL (
  SELECT coalesce(json_agg(json_build_object(
           'id', r.id,
           'status', r.status,
           'startsAt', to_timestamp(r.starts_at_s),
           'areas', string_to_array(nullif(r.areas, ''), ','),
           'provider', json_build_object('id', u.id, 'displayName', u.display_name),
           'deviceSessions', s.items) ORDER BY r.starts_at_s, r.id), '[]'::json) AS items
    FROM procedures AS r
    JOIN users AS u ON u.id = r.provider_id
   CROSS JOIN LATERAL (
     SELECT coalesce(json_agg(json_build_object(
              'id', ds.id,
              'area', ds.area,
              'depthMm', ds.depth_um / 1000.0,
              'passes', ds.passes,
              'device', json_build_object('id', d.id, 'serial', d.serial, 'model', d.model),
              'cartridge', json_build_object('id', k.id, 'serial', k.serial,
                                             'lotNumber', k.lot_number, 'expiresOn', k.expires_on))
              ORDER BY ds.id), '[]'::json) AS items
       FROM device_sessions AS ds
       JOIN devices AS d ON d.id = ds.device_id
       JOIN cartridges AS k ON k.id = ds.cartridge_id
      WHERE ds.procedure_id = r.id) AS s
   WHERE r.patient_id = p.id) AS pr
CROSS JOIN LATERAL (
  SELECT coalesce(json_agg(json_build_object(
           'id', fu.id,
           'kind', fu.kind,
           'status', fu.status,
           'dueAt', to_timestamp(fu.due_at_s),
           'channel', fu.channel) ORDER BY fu.due_at_s, fu.id), '[]'::json) AS items
    FROM follow_ups AS fu
   WHERE fu.patient_id = p.id) AS f;
