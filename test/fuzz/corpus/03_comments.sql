-- c \! x
/* a /* b */ c */ SELECT 1;
-- drydock:ignore NH001 -- why
