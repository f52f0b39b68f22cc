"""Running a show: logging now; supervisor, schedule and health in later issues."""
