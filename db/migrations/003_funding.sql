-- The State's Housing First credits by AMI and year (SPEC §2, from the 2018-2022 report).
-- Money in integer euros.
CREATE TABLE funding (
  ami                 smallint NOT NULL CHECK (ami IN (1, 2)),
  year                integer  NOT NULL CHECK (year BETWEEN 2000 AND 2100),
  amount_eur          bigint   NOT NULL CHECK (amount_eur >= 0),
  eligible_cost_eur   bigint   CHECK (eligible_cost_eur >= 0),
  state_share_percent numeric(5, 2) CHECK (state_share_percent BETWEEN 0 AND 100),
  note                text,
  PRIMARY KEY (ami, year)
);

INSERT INTO funding (ami, year, amount_eur, eligible_cost_eur, state_share_percent, note) VALUES
  (1, 2018,  223978, NULL, NULL, NULL),
  (1, 2019,  880000, NULL, NULL, NULL),
  (1, 2020,  207084, NULL, NULL, NULL),
  (1, 2021,  623078, NULL, NULL, NULL),
  (1, 2022, 1200000, NULL, NULL, NULL),
  (1, 2023, 1100000, 1469514, 74.85, 'Convention : coût éligible 1 469 514 €, part de l''État 74,85 %'),
  (2, 2021,  840000, NULL, NULL, NULL),
  (2, 2022,  836493, NULL, NULL, NULL);

GRANT SELECT ON funding TO lda_app;
