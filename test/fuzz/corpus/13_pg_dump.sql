--
-- PostgreSQL database dump
--

\restrict 4nS8pQ0zLr1xYtq2d9wKcJfV3mHbEe7uGaTiNoXyR5sPlDkZ6v

-- Dumped from database version 16.10 (Debian 16.10-1.pgdg120+1)
-- Dumped by pg_dump version 17.6 (Debian 17.6-1.pgdg120+1)

SET statement_timeout = 0;
SET lock_timeout = 0;
SET idle_in_transaction_session_timeout = 0;
SET transaction_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;
SET xmloption = content;
SET client_min_messages = warning;
SET row_security = off;

--
-- Name: app; Type: SCHEMA; Schema: -; Owner: app_owner
--

CREATE SCHEMA app;


ALTER SCHEMA app OWNER TO app_owner;

--
-- Name: pgcrypto; Type: EXTENSION; Schema: -; Owner: -
--

CREATE EXTENSION IF NOT EXISTS pgcrypto WITH SCHEMA public;


--
-- Name: order_status; Type: TYPE; Schema: app; Owner: app_owner
--

CREATE TYPE app.order_status AS ENUM (
    'new',
    'paid',
    'shipped'
);


ALTER TYPE app.order_status OWNER TO app_owner;

--
-- Name: touch_updated_at(); Type: FUNCTION; Schema: app; Owner: app_owner
--

CREATE FUNCTION app.touch_updated_at() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
  NEW.updated_at := now();
  RETURN NEW;
END;
$$;


ALTER FUNCTION app.touch_updated_at() OWNER TO app_owner;

--
-- Name: add_one(integer); Type: FUNCTION; Schema: app; Owner: app_owner
--

CREATE FUNCTION app.add_one(x integer) RETURNS integer
    LANGUAGE sql IMMUTABLE
    BEGIN ATOMIC
 SELECT (add_one.x + 1);
END;


ALTER FUNCTION app.add_one(x integer) OWNER TO app_owner;

SET default_tablespace = '';

SET default_table_access_method = heap;

--
-- Name: orders; Type: TABLE; Schema: app; Owner: app_owner
--

CREATE TABLE app.orders (
    id bigint NOT NULL,
    status app.order_status DEFAULT 'new'::app.order_status NOT NULL,
    note text DEFAULT 'it''s; \not a meta'::text,
    updated_at timestamp with time zone
);


ALTER TABLE app.orders OWNER TO app_owner;

--
-- Name: orders_id_seq; Type: SEQUENCE; Schema: app; Owner: app_owner
--

ALTER TABLE app.orders ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME app.orders_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);


--
-- Name: orders orders_pkey; Type: CONSTRAINT; Schema: app; Owner: app_owner
--

ALTER TABLE ONLY app.orders
    ADD CONSTRAINT orders_pkey PRIMARY KEY (id);


--
-- Name: orders trg_touch; Type: TRIGGER; Schema: app; Owner: app_owner
--

CREATE TRIGGER trg_touch BEFORE UPDATE ON app.orders FOR EACH ROW EXECUTE FUNCTION app.touch_updated_at();


--
-- Name: TABLE orders; Type: ACL; Schema: app; Owner: app_owner
--

GRANT SELECT ON TABLE app.orders TO reporting;


--
-- PostgreSQL database dump complete
--

\unrestrict 4nS8pQ0zLr1xYtq2d9wKcJfV3mHbEe7uGaTiNoXyR5sPlDkZ6v

