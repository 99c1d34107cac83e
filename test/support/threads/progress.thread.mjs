/** Reports three steps, then tries a value no report may carry; returns why it was refused. */
export default async function steps(entity, context) {
  for (let done = 1; done <= entity.steps; done++) await context.progress({ done });
  return context.progress(['not', 'a', 'report']).then(
    () => 'accepted',
    (error) => error.message,
  );
}
