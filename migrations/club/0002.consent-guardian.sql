-- Consents given for a child name the guardian who gave them (Databeskyttelsesloven
-- §6: under 13 a child cannot consent alone to an information-society service).
-- depends: 0001.club-schema

ALTER TABLE club.consents ADD COLUMN guardian_name text;
