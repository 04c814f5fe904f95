-- A partner token stands for one referring organisation. The first registered partner it
-- names as the referrer of a referral becomes that organisation (set once by the service,
-- in the same request); from then on the token may name no other. Without this, a partner
-- token could send referrals in the name of any partner organisation of its platforms.
ALTER TABLE api_token ADD COLUMN partner_id uuid REFERENCES partner (id);
ALTER TABLE api_token ADD CONSTRAINT api_token_partner_role
  CHECK (partner_id IS NULL OR role = 'partner');

-- the service sets it, once (the statement only fills a null)
GRANT UPDATE (partner_id) ON api_token TO lda_app;
