CREATE TABLE app.t (id int PRIMARY KEY, note text DEFAULT $$x$$);
