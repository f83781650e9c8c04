/** BTU's entry point for a task run (btu/btu_core/task_runner.py). */
export const BTU_RUN_TASK_BY_ID = 'btu.btu_core.task_runner.run_task_by_id';
