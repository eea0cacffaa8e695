-- A small HR database for trying `gpt4j ask`. employees.db holds these tables with rows
-- (built by: sqlite3 employees.db < employees.sql && sqlite3 employees.db < employees-data.sql).
CREATE TABLE department (
    department_id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    location TEXT,
    budget REAL
);

CREATE TABLE employee (
    employee_id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    department_id INTEGER REFERENCES department(department_id),
    job_title TEXT,
    salary REAL,
    hire_year INTEGER,
    manager_id INTEGER REFERENCES employee(employee_id)
);

CREATE TABLE project (
    project_id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    department_id INTEGER REFERENCES department(department_id),
    start_year INTEGER
);
